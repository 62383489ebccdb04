using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Attention rollout (Abnar &amp; Zuidema 2020, arXiv 2005.00928): each layer mixes <c>Ā^l = ½ mean_h A^{l,h} + ½ I</c>
/// (rows re-normalised, the residual counted as half the layer), and <c>R = Ā^{L−1} ⋯ Ā^0</c>; the score is row t of R.
/// </summary>
public sealed class AttentionRollout : IAttributionMethod
{
    public string Name => "rollout";
    public string Description => "product over layers of ½·(head-mean attention) + ½·I (Abnar & Zuidema 2020)";
    public bool UsesTarget => false;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        return LayerMixing.Rollout(MixingMatrices(model, context));
    }

    /// <summary>Ā^l per layer, [pos, pos] in float64 (also the capacities of attention flow).</summary>
    public static List<Tensor> MixingMatrices(HookedTransformer model, long[] context)
    {
        using var noGrad = no_grad();
        var (_, cache) = model.RunWithCache(tensor(context, device: model.W_E.device).unsqueeze(0), "blocks.*.attn.hook_pattern");
        using (cache)
        {
            var identity = eye(context.Length, dtype: ScalarType.Float64, device: model.W_E.device);
            return Enumerable.Range(0, model.Config.NLayers)
                .Select(l => LayerMixing.RowNormalise(0.5 * cache["pattern", l][0].to(ScalarType.Float64).mean([0]) + 0.5 * identity))
                .ToList();
        }
    }
}
