using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// ALTI-Logit (Ferrando et al. 2023, arXiv 2305.12535): each layer's attention update at t, split by source j and
/// projected on the logit direction under the frozen final norm, <c>Δ^l_j = DLA(Σ_h A^h_tj v_j^h W_O^h)</c>, is traced back
/// to the inputs through ALTI's mixing: <c>score(s) = Σ_l Σ_j Δ^l_j R^l[j, s]</c>, <c>R^l = C^{l−1} ⋯ C^0</c>. The scores sum to
/// <c>Σ_l DLA(attn_out^l − b_O^l)</c>. With <see cref="IncludeMlpAndEmbedding"/>, each MLP update at t is spread by
/// <c>R^{l+1}[t, ·]</c> and the embedding's direct logit goes to s = t, so the scores sum to the logit minus the constant
/// term (β·u + b_U) and the b_O terms. Linear in the target: the target must be a logit or a logit difference.
/// </summary>
public sealed class AltiLogit : IAttributionMethod
{
    public string Name => "alti_logit";
    public string Description => "each layer's attention contribution to the logit, traced to the inputs by ALTI (Ferrando et al. 2023)";
    public bool UsesTarget => true;

    public bool IncludeMlpAndEmbedding { get; init; }

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        if (!target.IsLogit) throw new GlassboxException($"ALTI-Logit explains a logit or a logit difference, not {target}: use the logit target.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var d = AttentionDecomposition.Run(model, context);
        int t = context.Length - 1;
        var u = d.LogitDirection(t, target.Token, target.Foil).to(ScalarType.Float64);
        var mixing = Alti.Contributions(d);
        var rollout = eye(context.Length, dtype: ScalarType.Float64, device: u.device);
        var perLayer = new List<Tensor>();
        var total = zeros(context.Length, dtype: ScalarType.Float64, device: u.device);
        for (int l = 0; l < d.Layers; l++)
        {
            var delta = d.Terms(l, t, 1)[0].to(ScalarType.Float64).matmul(u);
            var layer = delta.matmul(rollout);
            rollout = mixing[l].to(ScalarType.Float64).matmul(rollout);
            if (IncludeMlpAndEmbedding && d.MlpOut(l) is { } mlp) layer = layer + mlp[t].to(ScalarType.Float64).dot(u) * rollout[t];
            perLayer.Add(layer);
            total = total + layer;
        }
        if (IncludeMlpAndEmbedding) total[t] += d.ResidPre(0)[t].to(ScalarType.Float64).dot(u);
        double logit = target.Evaluate(d.Logits).to(ScalarType.Float64).item<double>();
        return new StepAttribution(total.cpu().data<double>().ToArray(), LayerMixing.ToArray(stack(perLayer)), TargetValue: logit);
    }
}
