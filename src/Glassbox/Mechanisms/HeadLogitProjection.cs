using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// The direct effect of a head's write on chosen logits, the one piece of direct logit attribution the detectors need
/// (techniques §3.1): <c>DLA = (c P / σ_f)(γ_f ⊙ W_U[:, t])</c>, with the final norm's scale <c>σ_f</c> frozen at its value on
/// the input and <c>P</c> the LayerNorm centring (none for RMSNorm). Kept in this one place so it can be replaced by the
/// shared direct-logit-attribution implementation when that lands.
/// </summary>
public static class HeadLogitProjection
{
    /// <summary>
    /// <paramref name="write"/> <c>[…, d]</c> (a head's <c>hook_result</c> rows), <paramref name="scale"/> <c>[…, 1]</c>
    /// (<c>ln_final.hook_scale</c> at the same positions), <paramref name="readout"/> <c>[…, d]</c> (a <c>W_U</c> column, or a
    /// difference of two) → the direct effect <c>[…]</c>.
    /// </summary>
    public static Tensor Onto(HookedTransformer model, Tensor write, Tensor scale, Tensor readout)
    {
        if (model.Config.Norm == NormKind.LayerNorm) write = write - write.mean(new long[] { -1 }, keepdim: true);
        return (write / scale * model.LnFinal.W * readout).sum(-1);
    }

    /// <summary>The unembedding columns of <paramref name="tokens"/> (any shape) as rows: <c>[…tokens, d]</c>.</summary>
    public static Tensor Readout(HookedTransformer model, Tensor tokens) =>
        model.W_U.t().index_select(0, tokens.flatten()).view([.. tokens.shape, model.Config.DModel]);
}
