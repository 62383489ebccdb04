using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Integrated gradients (Sundararajan, Taly &amp; Yan 2017, arXiv 1703.01365):
/// <c>A_i = Σ_k (e − e')_{ik} ∫₀¹ ∂T(e' + α(e − e'))/∂e_{ik} dα</c>, the integral by a quadrature rule. Reports the
/// completeness error <c>δ = |Σ_i A_i − (T(e) − T(e'))| / |T(e) − T(e')|</c>. The α steps run batched within the memory budget.
/// </summary>
public sealed class IntegratedGradients : IAttributionMethod
{
    public string Name => "integrated_gradients";
    public string Description => "(e − e')·∫∂T/∂e dα along the straight path from a baseline (Sundararajan et al. 2017)";
    public bool UsesTarget => true;

    public int Steps { get; init; } = 50;
    public IntegrationRule Rule { get; init; } = IntegrationRule.GaussLegendre;
    /// <summary>The baseline embedding is this token's at every position; null: the zero embedding.</summary>
    public long? BaselineToken { get; init; }
    public MemoryBudget Budget { get; init; } = MemoryBudget.Default;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        var (alphas, weights) = Quadrature.Rule(Rule, Steps);
        var e = EmbeddingGradients.Embeddings(model, context);
        var baseline = BaselineToken is { } b
            ? EmbeddingGradients.Embeddings(model, Enumerable.Repeat(b, context.Length).ToArray())
            : zeros_like(e);
        var delta = e - baseline;
        var a = tensor(alphas, dtype: e.dtype, device: e.device).view(-1, 1, 1);
        var (_, grads) = EmbeddingGradients.At(model, context, target, baseline.unsqueeze(0) + a * delta.unsqueeze(0), Budget);
        var w = tensor(weights, dtype: ScalarType.Float64, device: e.device).view(-1, 1, 1);
        var averaged = (grads.to(ScalarType.Float64) * w).sum(0);
        var scores = EmbeddingGradients.SumPerToken(averaged * delta.to(ScalarType.Float64));

        var ends = EmbeddingGradients.ValuesAt(model, context, target, stack([e, baseline]), Budget).to(ScalarType.Float64).cpu().data<double>().ToArray();
        double change = ends[0] - ends[1];
        double error = Math.Abs(scores.Sum() - change) / Math.Max(Math.Abs(change), 1e-8);
        return new StepAttribution(scores, CompletenessError: error, TargetValue: ends[0]);
    }
}
