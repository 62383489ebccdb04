using static TorchSharp.torch;

namespace Glassbox.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter 2019): Adam moments with bias correction and decoupled weight decay,
/// <c>p ← p − lr·(m̂/(√v̂ + ε) + λ·p)</c>, decay applied to matrices only (not norms or biases).
/// Written out so that a training run is fully determined by its seed and readable in one place.
/// </summary>
public sealed class AdamW : IOptimizer
{
    readonly IReadOnlyList<Tensor> parameters;
    readonly Tensor[] m, v;
    readonly double beta1, beta2, eps, weightDecay;
    int step;

    public AdamW(IReadOnlyList<Tensor> parameters, double beta1 = 0.9, double beta2 = 0.99, double eps = 1e-8, double weightDecay = 0.01)
    {
        this.parameters = parameters;
        (this.beta1, this.beta2, this.eps, this.weightDecay) = (beta1, beta2, eps, weightDecay);
        m = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        v = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public IReadOnlyList<Tensor> Parameters => parameters;

    public double ClipGradients(double maxNorm) => Gradients.ClipNorm(parameters, maxNorm);

    public void Step(double lr)
    {
        step++;
        double c1 = 1 - Math.Pow(beta1, step), c2 = 1 - Math.Pow(beta2, step);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } g) continue;
            m[i].mul_(beta1).add_(g, alpha: 1 - beta1);
            v[i].mul_(beta2).addcmul_(g, g, value: 1 - beta2);
            if (weightDecay > 0 && p.dim() >= 2) p.mul_(1 - lr * weightDecay);
            var denom = (v[i] / c2).sqrt_().add_(eps);
            p.addcdiv_(m[i], denom, value: -lr / c1);
        }
    }

    /// <summary>The first and second moments kept for <paramref name="parameter"/> (e.g. to restart some of its entries).</summary>
    public (Tensor M, Tensor V) Moments(Tensor parameter)
    {
        for (int i = 0; i < parameters.Count; i++)
            if (ReferenceEquals(parameters[i], parameter)) return (m[i], v[i]);
        throw new ArgumentException("The tensor is not one of this optimiser's parameters.", nameof(parameter));
    }

    public void ZeroGrad() => Gradients.Zero(parameters);

    public void Dispose()
    {
        foreach (var t in m.Concat(v)) t.Dispose();
    }
}
