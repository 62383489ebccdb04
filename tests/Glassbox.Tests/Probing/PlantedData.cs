using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

/// <summary>Synthetic activations <c>h = g + (2y − 1)·s·û</c>, g ~ N(0, I): a binary concept planted along one direction.</summary>
public static class PlantedData
{
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
}
