using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// JumpReLU SAE (Rajamanoharan et al. 2024b, arXiv 2407.14435): <c>f = π ⊙ H(π − θ)</c> with a learned threshold
/// per latent, loss <c>‖y − ŷ‖² + λ Σ_i H(π_i − θ_i)</c> (an L0 penalty). The step has no gradient, so θ learns through
/// straight-through estimators with the kernel K(u) = 1[|u| &lt; ½] and bandwidth ε:
/// ∂f_i/∂θ_i := −(θ_i/ε) K((π_i − θ_i)/ε) and ∂H/∂θ_i := −(1/ε) K((π_i − θ_i)/ε); π gets its gradient through f only.
/// </summary>
public sealed class JumpReluSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : SparseAutoencoder(config, weights)
{
    /// <summary>θ₀ (relative to the normalised input), as the paper initialises it.</summary>
    public const double InitialThreshold = 1e-3;
    const double MinThreshold = 1e-6;

    /// <summary>ε of the straight-through estimators (the paper's 1e-3 suits unit-norm-scaled inputs and long runs).</summary>
    public double Bandwidth { get; set; } = 1e-3;

    /// <summary>θ [d_sae]</summary>
    public Tensor Threshold => this["threshold"];

    public override Tensor Activate(Tensor x, Tensor pre) => pre * (pre > Threshold).to(pre.dtype);

    public override SaeLoss Loss(Tensor x, Tensor y, SaeStepState state)
    {
        var pre = PreActivations(x);
        var theta = Threshold;
        var step = (pre > theta).to(pre.dtype).detach();
        // The kernel window around the threshold, a constant for autograd.
        var window = ((pre - theta).abs() < Bandwidth / 2).to(pre.dtype).detach() / Bandwidth;
        // Each surrogate is zero in value and carries the estimator's gradient to θ: d(θ·c)/dθ = c.
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
        Threshold.clamp_min_(MinThreshold);
    }
}
