using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// GlobEnc (Modarressi et al. 2022, arXiv 2205.03286): the residual-aware, ln2-linearised norms of
/// <see cref="NormBased"/> (Kobayashi et al. 2021), rows normalised to sum to 1, rolled out across layers with no
/// extra ½I; the feed-forward network is bypassed. The score is row t of the rollout.
/// </summary>
public sealed class GlobEnc : IAttributionMethod
{
    public string Name => "globenc";
    public string Description => "rollout of row-normalised residual + ln2 norm-based matrices (Modarressi et al. 2022)";
    public bool UsesTarget => false;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        using var decomposition = AttentionDecomposition.Run(model, context);
        return LayerMixing.Rollout(NormBased.Matrices(decomposition, residual: true).Select(LayerMixing.RowNormalise).ToList());
    }
}
