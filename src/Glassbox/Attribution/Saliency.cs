using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Saliency (Simonyan et al. 2014, arXiv 1312.6034): the sensitivity of the target to each token,
/// <c>A_i = ‖∂T/∂e_i‖₂</c> over the token embedding e_i.
/// </summary>
public sealed class Saliency : IAttributionMethod
{
    public string Name => "saliency";
    public string Description => "‖∂T/∂e_i‖₂, the gradient norm per token (Simonyan et al. 2014)";
    public bool UsesTarget => true;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        var e = EmbeddingGradients.Embeddings(model, context);
        var (value, grad) = EmbeddingGradients.At(model, context, target, e.unsqueeze(0), MemoryBudget.Default);
        var norms = grad[0].to(ScalarType.Float64).norm(1, false).cpu().data<double>().ToArray();
        return new StepAttribution(norms, TargetValue: value.to(ScalarType.Float64).item<double>());
    }
}
