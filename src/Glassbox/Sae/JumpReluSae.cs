using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// JumpReLU SAE (Rajamanoharan et al. 2024b, arXiv 2407.14435): <c>f = π ⊙ H(π − θ)</c> with a learned threshold
/// per latent, loss <c>‖y − ŷ‖² + λ Σ_i H(π_i − θ_i)</c> (an L0 penalty). Training optimises log θ (θ = exp(log θ), so θ
/// stays positive); the step has no gradient, so θ learns through straight-through estimators with the kernel
/// K(u) = 1[|u| &lt; ½] and bandwidth ε: ∂f_i/∂θ_i := −(θ_i/ε) K((π_i − θ_i)/ε) and ∂H/∂θ_i := −(1/ε) K((π_i − θ_i)/ε),
/// reaching log θ as ∂/∂log θ = θ ∂/∂θ; π gets its gradient through f only.
/// </summary>
public sealed class JumpReluSae : SparseAutoencoder
{
    public JumpReluSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, weights)
    {
        using var _ = no_grad();
        LogThreshold = Threshold.log().DetachFromDisposeScope();
    }

    /// <summary>ε of the straight-through estimators (the paper's 1e-3 suits unit-norm-scaled inputs and long runs).</summary>
    public double Bandwidth { get; private set; } = 1e-3;

    /// <summary>θ [d_sae]: what inference uses and what the file saves (SAELens's <c>threshold</c>).</summary>
    public Tensor Threshold => this["threshold"];

    /// <summary>log θ [d_sae], the trained parameter; <see cref="Threshold"/> is set to its exp after every step.</summary>
    public Tensor LogThreshold { get; }

    public override IReadOnlyList<Tensor> Parameters => [W_enc, this["b_enc"], W_dec, b_dec, LogThreshold];

    public override IEnumerable<(Tensor Vector, double Initial)> LatentVectors =>
        base.LatentVectors.Select(v => ReferenceEquals(v.Vector, LogThreshold) ? (v.Vector, Math.Log(Config.JumpReluInitThreshold)) : v);

    /// <summary>Takes log θ from θ, so a threshold edited or loaded since construction is what training starts from.</summary>
    public void StartTraining(double bandwidth)
    {
        using var _ = no_grad();
        if ((Threshold <= 0).any().item<bool>())
            throw new GlassboxException("Training a JumpReLU SAE needs every threshold θ > 0 (it optimises log θ).");
        Bandwidth = bandwidth;
        LogThreshold.copy_(Threshold.log());
    }

    public override Tensor Activate(Tensor x, Tensor pre) => pre * (pre > Threshold).to(pre.dtype);

    public override SaeLoss Loss(Tensor x, Tensor y, SaeStepState state)
    {
        var pre = PreActivations(x);
        var theta = LogThreshold.exp();
        var step = (pre > theta).to(pre.dtype).detach();
        // The kernel window around the threshold, a constant for autograd.
        var window = ((pre - theta).abs() < Bandwidth / 2).to(pre.dtype).detach() / Bandwidth;
        // Each surrogate is zero in value and carries the estimator's gradient to θ (d(θ·c)/dθ = c), and on through θ = exp(log θ).
        var fGrad = (-theta * window).detach();
        var f = pre * step + (theta * fGrad - (theta * fGrad).detach());
        var l0Grad = (-window).detach();
        var l0 = (step + (theta * l0Grad - (theta * l0Grad).detach())).sum(-1).mean();
        var mse = Mse(Decode(f), y);
        return new SaeLoss(mse + state.SparsityCoefficient * l0, mse, l0, zeros_like(mse), f);
    }

    public override void AfterStep(Tensor x, SaeLoss loss)
    {
        using var _ = no_grad();
        Threshold.copy_(LogThreshold.exp());
    }

    public override void Dispose()
    {
        LogThreshold.Dispose();
        base.Dispose();
    }
}
