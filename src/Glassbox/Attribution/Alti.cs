using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// ALTI, Aggregation of Layer-wise Token-to-token Interactions (Ferrando, Gállego &amp; Costa-jussà 2022, arXiv 2203.04212):
/// with <c>y_i = x^mid_i = Σ_j T_i(x_j) + b_O</c>, <c>p_ij = max(0, ‖y_i‖₁ − ‖y_i − T_i(x_j)‖₁)</c>, <c>C^l_ij = p_ij / Σ_k p_ik</c>,
/// and <c>R = C^{L−1} ⋯ C^0</c> (the MLP mixes no positions). The score is row t of R.
/// </summary>
public sealed class Alti : IAttributionMethod
{
    public string Name => "alti";
    public string Description => "rollout of each source's L1 proximity to the block's residual output (Ferrando et al. 2022)";
    public bool UsesTarget => false;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        using var decomposition = AttentionDecomposition.Run(model, context);
        return LayerMixing.Rollout(Contributions(decomposition));
    }

    /// <summary>C^l, [query, key] per layer: row-stochastic and lower-triangular.</summary>
    public static List<Tensor> Contributions(AttentionDecomposition d)
    {
        using var noGrad = no_grad();
        return Enumerable.Range(0, d.Layers).Select(l =>
        {
            var mid = d.ResidMid(l);
            return LayerMixing.RowNormalise(d.ByQueryChunks(perHead: false, (start, count) =>
                Proximity(d.ResidualTerms(l, start, count), mid.narrow(0, start, count).unsqueeze(1))));
        }).ToList();
    }

    /// <summary>ALTI's unnormalised importance of each part z of a sum y: <c>max(0, ‖y‖₁ − ‖y − z‖₁)</c>, over the last axis.</summary>
    public static Tensor Proximity(Tensor parts, Tensor total) =>
        (total.abs().sum(-1) - (total - parts).abs().sum(-1)).clamp_min(0);
}
