using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

/// <summary>Synthetic activations with a concept planted along known directions, g ~ N(0, I) the noise.</summary>
public static class PlantedData
{
    /// <summary><c>h = g + (2y − 1)·s·û</c>: a binary concept planted along one direction.</summary>
    public static (Tensor X, int[] Labels, Tensor Direction) Create(int n, int d, double strength, int seed)
    {
        var generator = new Generator((ulong)seed);
        var direction = randn(d, generator: generator);
        direction /= direction.norm();
        var labels = Enumerable.Range(0, n).Select(i => i % 2).ToArray();
        var sign = tensor(labels.Select(y => 2.0f * y - 1).ToArray()).unsqueeze(1);
        var x = randn(n, d, generator: generator) + strength * sign * direction;
        return (x, labels, direction);
    }

    /// <summary>
    /// <c>h = g + s·(a·e₀ + b·e₁)</c> with a, b = ±1 and y = [a ≠ b]: four clusters at the corners of a square, the XOR of two
    /// directions. Both classes have the same mean, so no linear read-out beats chance.
    /// </summary>
    public static (Tensor X, int[] Labels) CreateXor(int n, int d, double strength, int seed)
    {
        var generator = new Generator((ulong)seed);
        var corners = Enumerable.Range(0, n).Select(i => (A: i % 2 * 2 - 1, B: i / 2 % 2 * 2 - 1)).ToArray();
        var x = randn(n, d, generator: generator);
        x[.., 0] += tensor(corners.Select(c => (float)(strength * c.A)).ToArray());
        x[.., 1] += tensor(corners.Select(c => (float)(strength * c.B)).ToArray());
        return (x, corners.Select(c => c.A != c.B ? 1 : 0).ToArray());
    }
}
