using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Norm-based attribution (Kobayashi et al. 2020, arXiv 2004.10102): the size of what source j writes into position i,
/// <c>‖Σ_h A^h_ij (x̂_j W_V^h + b_V^h) W_O^h‖₂</c>. With <see cref="Residual"/> (Kobayashi et al. 2021, arXiv 2109.07152) the
/// residual x_i joins the diagonal term and each term passes through the frozen-σ ln2: <c>‖(T_i(x_j) P) ⊙ γ₂ / σ₂,i‖₂</c>.
/// The score is the mean over layers of the last position's row; per-layer rows are kept.
/// </summary>
public sealed class NormBased : IAttributionMethod
{
    public string Name => Residual ? "norm_residual" : "norm";
    public string Description => Residual
        ? "‖ln2-linearised attention term + residual‖ per source (Kobayashi et al. 2021)"
        : "‖Σ_h α·f(x_j)‖ per source, the attention-weighted value-output norms (Kobayashi et al. 2020)";
    public bool UsesTarget => false;

    public bool Residual { get; init; }

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        using var decomposition = AttentionDecomposition.Run(model, context);
        return LayerMixing.LastRows(Matrices(decomposition, Residual));
    }

    /// <summary>The [query, key] norm matrix of every layer.</summary>
    public static List<Tensor> Matrices(AttentionDecomposition d, bool residual)
    {
        using var noGrad = no_grad();
        return Enumerable.Range(0, d.Layers).Select(l => d.ByQueryChunks(perHead: false, (start, count) =>
        {
            if (!residual) return d.Terms(l, start, count).norm(-1, false);
            var terms = d.ResidualTerms(l, start, count);
            if (d.Model.Blocks[l].Ln2 is { } ln2) terms = d.Linearise(terms, ln2, d.Ln2Scale(l)!.narrow(0, start, count).unsqueeze(1));
            return terms.norm(-1, false);
        })).ToList();
    }
}
