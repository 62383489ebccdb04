using static TorchSharp.torch;

namespace Glassbox.Training;

/// <summary>
/// SGD with Nesterov momentum (Sutskever et al. 2013), as PyTorch's <c>SGD(nesterov=True)</c> computes it and the tuned-lens
/// paper trains with (Belrose et al. 2023): <c>d = g + λp</c>, <c>b ← μb + d</c>, <c>p ← p − lr·(d + μb)</c>, the L2 term on
/// matrices only (as <see cref="AdamW"/> decays them).
/// </summary>
public sealed class SgdNesterov(IReadOnlyList<Tensor> parameters, double momentum = 0.9, double weightDecay = 0) : IOptimizer
{
    readonly Tensor[] buffers = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();

    public IReadOnlyList<Tensor> Parameters => parameters;

    public void ZeroGrad() => Gradients.Zero(parameters);

    public double ClipGradients(double maxNorm) => Gradients.ClipNorm(parameters, maxNorm);

    public void Step(double lr)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } g) continue;
            var d = weightDecay > 0 && p.dim() >= 2 ? g + weightDecay * p : g;
            buffers[i].mul_(momentum).add_(d);
            p.add_(d + momentum * buffers[i], alpha: -lr);
        }
    }

    public void Dispose()
    {
        foreach (var b in buffers) b.Dispose();
    }
}
