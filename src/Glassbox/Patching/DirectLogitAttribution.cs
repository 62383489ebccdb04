using Glassbox.Hooks;
using Glassbox.Mechanisms;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>
/// Exact direct logit attribution (Elhage et al. 2021; TransformerLens's <c>decompose_resid</c> and <c>accumulated_resid</c>):
/// the final residual at a target is the sum of the embeddings, each head's write, each attention output bias and each MLP
/// output; with the final norm's scale σ frozen at its value on the run, the readout is linear in that sum, so
/// <c>DLA(c) = (c P)·(γ ⊙ u)/σ</c> and <c>Σ_c DLA(c) + β·u + b_U·u = f_good − f_bad</c> exactly (P centres for LayerNorm,
/// u = mean W_U[:, good] − mean W_U[:, bad]). MLPs split further into neurons (<c>post_n W_out[n]</c>) and heads into
/// source positions (<c>A_tj (x̂_j W_V + b_V) W_O</c>, Ferrando et al. 2023).
/// </summary>
public static class DirectLogitAttribution
{
    public static DlaReport Run(HookedTransformer model, Tensor tokens, IReadOnlyList<MetricTarget> targets, string metric = "logit difference")
    {
        if (targets.Count == 0) throw new GlassboxException("DLA needs at least one target prediction.");
        var cfg = model.Config;
        int L = cfg.NLayers, H = cfg.NHeads;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var names = "hook_embed,blocks.*.attn.hook_result,blocks.*.attn.hook_pattern,blocks.*.attn.hook_v,blocks.*.hook_resid_pre,ln_final.hook_scale,"
            + $"blocks.{L - 1}.hook_resid_post" + (cfg.Positional == PositionalKind.Learned ? ",hook_pos_embed" : "")
            + (cfg.AttnOnly ? "" : ",blocks.*.hook_mlp_out,blocks.*.mlp.hook_post");
        var (logits, cache) = model.RunWithCache(tokens, names);
        using (cache)
        {
            var device = model.Device;
            var items = tensor(targets.Select(t => (long)t.Item).ToArray(), device: device);
            var positions = tensor(targets.Select(t => (long)t.Position).ToArray(), device: device);
            Tensor At(Tensor activation) => activation.index(items, positions).to(ScalarType.Float64); // [target, ...]
            var metricOf = new PatchMetric(MetricKind.LogitDiff, targets);

            // u [target, d_model] and the bias term of the readout
            var (u, unembedBias) = Readout(model, targets);
            var scale = At(cache["ln_final.hook_scale"]);                                       // [target, 1]
            var g = ReadDirection(model, u, scale);                                              // [target, d_model]
            var constant = unembedBias + (model.LnFinal.B is { } beta ? (u * beta.to(ScalarType.Float64)).sum(-1) : zeros_like(unembedBias));
            double Mean(Tensor perTarget) => perTarget.mean().item<double>();
            double Project(Tensor write) => Mean((At(write) * g).sum(-1));
            double ProjectConstant(Tensor bias) => Mean((bias.to(ScalarType.Float64) * g).sum(-1));

            var parts = new List<(string, double)> { ("embed", Project(cache["hook_embed"])) };
            if (cfg.Positional == PositionalKind.Learned) parts.Add(("pos_embed", Project(cache["hook_pos_embed"])));
            var heads = new double[L, H];
            var mlps = new double[L];
            var neurons = new double[L, cfg.AttnOnly ? 0 : cfg.DMlp];
            var sources = new double[L * H, tokens.shape[^1]];
            var accumulated = new double[L + 1];
            for (int l = 0; l < L; l++)
            {
                accumulated[l] = Project(cache["resid_pre", l]);
                var attn = model.Blocks[l].Attn;
                var perHead = (At(cache["result", l]) * g.unsqueeze(1)).sum(-1).mean(new long[] { 0 }); // [head]
                for (int h = 0; h < H; h++)
                {
                    heads[l, h] = perHead[h].item<double>();
                    parts.Add(($"L{l}H{h}", heads[l, h]));
                }
                if (attn.b_O is { } bo) parts.Add(($"L{l} b_O", ProjectConstant(bo)));
                PerSource(model, cache, l, items, positions, g, sources);
                if (model.Blocks[l].Mlp is not { } mlp) continue;
                mlps[l] = Project(cache["mlp_out", l]);
                parts.Add(($"L{l} MLP", mlps[l]));
                var perNeuron = (At(cache["post", l]) * matmul(g, mlp.W_out.to(ScalarType.Float64).t())).mean(new long[] { 0 });
                var values = perNeuron.cpu().data<double>().ToArray();
                for (int n = 0; n < values.Length; n++) neurons[l, n] = values[n];
            }
            accumulated[L] = Project(cache["resid_post", L - 1]);
            double actual = metricOf.Evaluate(logits).item<double>();
            return new DlaReport(metric, actual, Mean(constant), parts, new HeadScores($"direct effect on {metric}", heads), mlps, neurons, sources, accumulated);
        }
    }

    /// <summary>
    /// The direction g = P(γ ⊙ u)/σ whose dot product with any write to the final residual is that write's direct effect on
    /// the readout u, with the final norm's scale σ frozen ((c P)·(γ ⊙ u) = c·P(γ ⊙ u): P is symmetric). u <c>[…, d]</c>,
    /// σ <c>[…, 1]</c> broadcastable to it.
    /// </summary>
    public static Tensor ReadDirection(HookedTransformer model, Tensor u, Tensor scale)
    {
        var g = u * model.LnFinal.W.to(u.dtype);
        if (model.Config.Norm == NormKind.LayerNorm) g = g - g.mean(new long[] { -1 }, keepdim: true);
        return g / scale.to(u.dtype);
    }

    /// <summary>The unembedding columns W_U[:, t] of <paramref name="tokens"/> (any shape) as rows: <c>[…tokens, d]</c>.</summary>
    public static Tensor Unembedding(HookedTransformer model, Tensor tokens) =>
        model.W_U.t().index_select(0, tokens.flatten()).view([.. tokens.shape, model.Config.DModel]);

    /// <summary>u = mean W_U[:, good] − mean W_U[:, bad] per target, and the same readout of b_U.</summary>
    internal static (Tensor U, Tensor Bias) Readout(HookedTransformer model, IReadOnlyList<MetricTarget> targets)
    {
        var wu = model.W_U.to(ScalarType.Float64);
        var bu = model.b_U?.to(ScalarType.Float64);
        var us = new List<Tensor>();
        var biases = new List<Tensor>();
        foreach (var t in targets)
        {
            var good = tensor(t.Good.Select(i => (long)i).ToArray(), device: model.Device);
            var u = wu.index_select(1, good).mean(new long[] { 1 });
            var b = bu is null ? zeros(1, ScalarType.Float64, model.Device).squeeze(0) : bu.index_select(0, good).mean();
            if (t.Bad.Length > 0)
            {
                var bad = tensor(t.Bad.Select(i => (long)i).ToArray(), device: model.Device);
                u = u - wu.index_select(1, bad).mean(new long[] { 1 });
                if (bu is not null) b = b - bu.index_select(0, bad).mean();
            }
            us.Add(u);
            biases.Add(b);
        }
        return (stack(us), stack(biases));
    }

    /// <summary>Head × source position: A_tj · (v_j W_O^h)·g, summed over j it is the head's DLA.</summary>
    static void PerSource(HookedTransformer model, ActivationCache cache, int layer, Tensor items, Tensor positions, Tensor g, double[,] sources)
    {
        var cfg = model.Config;
        int H = cfg.NHeads;
        var pattern = cache["pattern", layer].to(ScalarType.Float64).index_select(0, items);                    // [target, head, q, k]
        var rows = pattern.gather(2, positions.view(-1, 1, 1, 1).expand(-1, H, 1, pattern.shape[3])).squeeze(2); // [target, head, k]
        var v = cache["v", layer].to(ScalarType.Float64).index_select(0, items);                               // [target, k, kv_head, d_head]
        if (cfg.NKvHeads != H) v = v.repeat_interleave(H / cfg.NKvHeads, dim: 2);
        var wo = model.Blocks[layer].Attn.W_O.to(ScalarType.Float64);                                         // [head, d_head, d_model]
        var readDirection = einsum("hem,tm->the", wo, g);                                                      // [target, head, d_head]
        var perSource = (rows * einsum("tkhe,the->thk", v, readDirection)).mean(new long[] { 0 });            // [head, k]
        var values = perSource.cpu().data<double>().ToArray();
        long k = perSource.shape[1];
        for (int h = 0; h < H; h++)
            for (int j = 0; j < k; j++) sources[layer * H + h, j] = values[h * k + j];
    }
}
