using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// SmoothGrad (Smilkov et al. 2017, arXiv 1706.03825): saliency with the gradient averaged over noisy copies of
/// the embeddings, <c>A_i = ‖(1/N) Σ_s ∂T(e + ε_s)/∂e_i‖₂</c>, <c>ε_s ~ N(0, σ²)</c>, <c>σ = ρ·(max e − min e)</c>.
/// </summary>
public sealed class SmoothGrad : IAttributionMethod
{
    public string Name => "smoothgrad";
    public string Description => "‖mean of ∂T/∂e over N noisy embeddings‖₂ (Smilkov et al. 2017)";
    public bool UsesTarget => true;

    public int Samples { get; init; } = 50;
    /// <summary>ρ: the noise σ as a fraction of the embeddings' range.</summary>
    public double NoiseLevel { get; init; } = 0.15;
    public ulong Seed { get; init; }
    public MemoryBudget Budget { get; init; } = MemoryBudget.Default;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        if (Samples < 1) throw new GlassboxException($"SmoothGrad needs at least one sample, got {Samples}.");
        using var scope = NewDisposeScope();
        var e = EmbeddingGradients.Embeddings(model, context);
        double sigma = NoiseLevel * (e.max() - e.min()).to(ScalarType.Float64).item<double>();
        var noise = randn(new long[] { Samples, e.shape[0], e.shape[1] }, dtype: ScalarType.Float64, generator: new Generator(Seed)) * sigma;
        var (_, grads) = EmbeddingGradients.At(model, context, target, e.unsqueeze(0) + noise.to(e.dtype, e.device), Budget);
        var norms = grads.to(ScalarType.Float64).mean([0]).norm(1, false).cpu().data<double>().ToArray();
        return new StepAttribution(norms);
    }
}
