using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// A vector to add to the residual stream at one hook: [d] is added at every position, [k, d] row by row at the first
/// k positions of the sequence (ActAdd). <see cref="Hook"/> applies <c>x ← x + c·u</c>; the result is affine in c and
/// c = 0 leaves the activation bit-identical.
/// </summary>
public sealed class SteeringVector(string hookName, Tensor vector) : IDisposable
{
    public string HookName { get; } = hookName;
    public Tensor Vector { get; } = vector;

    /// <summary>
    /// A fresh hook for one forward pass or one generation: it tracks absolute positions across KV-cached calls,
    /// so ActAdd's rows land on the prompt's first k positions and never on generated ones.
    /// </summary>
    public (string Names, HookFn Fn) Hook(double coefficient)
    {
        long seen = 0;
        HookFn fn = (x, _) =>
        {
            long start = seen, n = x.shape[1];
            seen += n;
            if (Vector.dim() == 1) return x + coefficient * Vector.to(x.dtype, x.device);
            long k = Math.Min(Vector.shape[0] - start, n);
            if (k <= 0) return null;
            var delta = zeros_like(x);
            delta[.., TensorIndex.Slice(0, k)] = coefficient * Vector.narrow(0, start, k).to(x.dtype, x.device);
            return x + delta;
        };
        return (HookName, fn);
    }

    public void Dispose() => Vector.Dispose();
}
