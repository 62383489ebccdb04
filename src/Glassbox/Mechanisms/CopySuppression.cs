using Glassbox.Hooks;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Weights;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Copy suppression (McDougall et al. 2023, arXiv 2310.04625): a head that attends to an earlier token and lowers that token's
/// logit. Weights: the fraction of tokens <c>s</c> whose own entry is among the <see cref="Rank"/> most negative of row <c>s</c>
/// of the full OV circuit <c>N(W_E) W_OV W_U'</c>. Activations: the mean direct logit effect (<see cref="DirectLogitAttribution.ReadDirection"/>)
/// of the head's write at query <c>i</c> on the token at its most-attended earlier key <c>j ∈ [1, i)</c>, negative when it suppresses.
/// </summary>
public static class CopySuppression
{
    public const int Rank = 10;

    /// <summary>The weight score per head of a layer, over <paramref name="tokens"/> (rows of the full OV circuit), <c>[head]</c>.</summary>
    public static double[] WeightScore(FactoredMatrix fullOv, long[] tokens, int? rowChunk = null)
    {
        using var scope = NewDisposeScope();
        // Rows are materialised for every head at once: keep a chunk near 16 M entries whatever the vocabulary.
        int chunk = rowChunk ?? (int)Math.Max(1, (1L << 24) / (fullOv.Left.shape[0] * fullOv.Columns));
        var hits = zeros(fullOv.Left.shape[0], dtype: ScalarType.Float64, device: fullOv.Left.device);
        for (int start = 0; start < tokens.Length; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            var ids = tensor(tokens[start..Math.Min(tokens.Length, start + chunk)], device: fullOv.Left.device);
            var rows = fullOv.RowsAt(ids);                                                    // [head, n, V]
            var own = rows.gather(2, ids.view(1, -1, 1).expand(rows.shape[0], -1, 1));        // [head, n, 1]
            var below = (rows < own).sum(2);                                                  // entries more negative than its own
            hits.add_((below < Rank).to(ScalarType.Float64).sum(1));
        }
        return (hits / tokens.Length).cpu().data<double>().ToArray();
    }

    /// <summary>
    /// The activation score per head of a layer, <c>[head]</c>, from a cache holding the layer's <c>hook_pattern</c> and
    /// <c>hook_z</c> and <c>ln_final.hook_scale</c> on <paramref name="tokens"/> <c>[batch, pos]</c>.
    /// </summary>
    public static double[] AttendedTokenEffect(HookedTransformer model, ActivationCache cache, Tensor tokens, int layer)
    {
        using var scope = NewDisposeScope();
        long pos = tokens.shape[1];
        var later = arange(1, pos, device: tokens.device).unsqueeze(0) >= arange(2, pos, device: tokens.device).unsqueeze(1);
        var pattern = cache["pattern", layer][.., .., 2.., 1..].masked_fill(later, -1);                  // queries i ≥ 2, keys 1 ≤ j < i
        var keys = pattern.argmax(-1) + 1;                                                              // [batch, head, query]
        var attended = tokens.unsqueeze(1).expand(-1, keys.shape[1], -1).gather(2, keys);              // token at the key
        // The head's write z W_O, formed here per layer rather than cached as hook_result for every layer.
        var write = einsum("bqhe,hed->bhqd", cache["z", layer][.., 2..], model.Blocks[layer].Attn.W_O);   // [batch, head, query, d]
        var scale = cache["ln_final.hook_scale"][.., 2..].unsqueeze(1);                                  // [batch, 1, query, 1]
        var effect = (write * DirectLogitAttribution.ReadDirection(model, DirectLogitAttribution.Unembedding(model, attended), scale)).sum(-1);
        return effect.to(ScalarType.Float64).mean(new long[] { 0, 2 }).cpu().data<double>().ToArray();
    }
}
