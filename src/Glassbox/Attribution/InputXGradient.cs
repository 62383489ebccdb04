using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Gradient × input (Shrikumar et al. 2017, arXiv 1704.02685): a signed first-order estimate of each token's
/// contribution, <c>A_i = Σ_k e_{i,k} ∂T/∂e_{i,k}</c>. Linear in the target, so contrastive scores are differences.
/// </summary>
public sealed class InputXGradient : IAttributionMethod
{
    public string Name => "input_x_gradient";
    public string Description => "Σ_k e_ik ∂T/∂e_ik, gradient times the token embedding (Shrikumar et al. 2017)";
    public bool UsesTarget => true;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        var e = EmbeddingGradients.Embeddings(model, context);
        var (value, grad) = EmbeddingGradients.At(model, context, target, e.unsqueeze(0), MemoryBudget.Default);
        return new StepAttribution(EmbeddingGradients.SumPerToken(grad[0].to(ScalarType.Float64) * e.to(ScalarType.Float64)),
            TargetValue: value.to(ScalarType.Float64).item<double>());
    }
}
