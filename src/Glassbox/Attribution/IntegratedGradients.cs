using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Integrated gradients (Sundararajan, Taly &amp; Yan 2017, arXiv 1703.01365):
/// <c>A_i = Σ_k (e − e')_{ik} ∫₀¹ ∂T(e' + α(e − e'))/∂e_{ik} dα</c>, the integral by a quadrature rule (default: Gauss–Legendre in s with α = s³); BOS keeps its embedding in the baseline. Reports the
/// completeness error <c>δ = |Σ_i A_i − (T(e) − T(e'))| / |T(e) − T(e')|</c>. The α steps run batched within the memory budget.
/// </summary>
public sealed class IntegratedGradients : IAttributionMethod
{
    public string Name => "integrated_gradients";
    public string Description => "(e − e')·∫∂T/∂e dα along the straight path from a baseline (Sundararajan et al. 2017)";
    public bool UsesTarget => true;

    public int Steps { get; init; } = 50;
    public IntegrationRule Rule { get; init; } = IntegrationRule.GradedGaussLegendre;
    /// <summary>
    /// The baseline embedding is this token's at every position. Null: the zero embedding, except in models without
    /// learned positions (Llama), where a zero embedding makes the whole residual stream zero and RMSNorm turns that into a
    /// jump of T within α ≈ √ε/rms(e) ≈ 1e-9 of the baseline that no quadrature resolves; there the BOS embedding is used.
    /// </summary>
    public long? BaselineToken { get; init; }
    public MemoryBudget Budget { get; init; } = MemoryBudget.Default;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        var (alphas, weights) = Quadrature.Rule(Rule, Steps);
        var e = EmbeddingGradients.Embeddings(model, context);
        var baseline = (BaselineToken ?? (model.W_pos is null ? model.Config.BosTokenId : null)) is { } b
            ? EmbeddingGradients.Embeddings(model, Enumerable.Repeat(b, context.Length).ToArray())
            : zeros_like(e);
        // BOS keeps its real embedding in both runs: it is not part of the input being explained.
        if (model.Config.BosTokenId is { } bos && context[0] == bos) baseline[0] = e[0];
        var delta = e - baseline;
        var a = tensor(alphas, dtype: e.dtype, device: e.device).view(-1, 1, 1);
        var (_, grads) = EmbeddingGradients.At(model, context, target, baseline.unsqueeze(0) + a * delta.unsqueeze(0), Budget);
        var w = tensor(weights, dtype: ScalarType.Float64, device: e.device).view(-1, 1, 1);
        var averaged = (grads.to(ScalarType.Float64) * w).sum([0]);
        var scores = EmbeddingGradients.SumPerToken(averaged * delta.to(ScalarType.Float64));

        var ends = EmbeddingGradients.ValuesAt(model, context, target, stack([e, baseline]), Budget).to(ScalarType.Float64).cpu().data<double>().ToArray();
        double change = ends[0] - ends[1];
        double error = Math.Abs(scores.Sum() - change) / Math.Max(Math.Abs(change), 1e-8);
        return new StepAttribution(scores, CompletenessError: error, TargetValue: ends[0]);
    }
}
