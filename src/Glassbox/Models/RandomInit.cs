using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Seeded random weights for any config, in the TransformerLens layout: the starting point of training
/// and the stand-in for real checkpoints in tests and benchmarks. Matrices ~ N(0, std²) (GPT-2's 0.02
/// by default), norm weights 1, biases 0 where the architecture has them (LayerNorm families: GPT-2, NeoX).
/// Every component the config names gets weights, under the names the loader writes: post-norms, q/k norms (per head or
/// joint), MoE routers and stacked experts; absent pre-norms (OLMo 2) have none.
/// </summary>
public static class RandomInit
{
    public static StateDict Create(ModelConfig cfg, long seed, double std = 0.02, bool? biases = null)
    {
        cfg = cfg.Validated();
        biases ??= cfg.Norm == NormKind.LayerNorm;
        var gen = new Generator((ulong)seed);
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        Tensor Normal(params long[] shape) => normal(0, std, shape, generator: gen);
        bool ln = cfg.Norm == NormKind.LayerNorm;
        int d = cfg.DModel, H = cfg.NHeads, Hkv = cfg.NKvHeads, dh = cfg.DHead, dm = cfg.DMlp;
        void Norm(string name, long width, bool bias)
        {
            sd[name + ".w"] = ones(width);
            if (bias) sd[name + ".b"] = zeros(width);
        }

        sd["embed.W_E"] = Normal(cfg.VocabSize, d);
        if (cfg.Positional == PositionalKind.Learned) sd["pos_embed.W_pos"] = Normal(cfg.ContextLength, d);
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string b = $"blocks.{l}.";
            if (cfg.PreNorms)
                foreach (var n in cfg.AttnOnly ? new[] { "ln1" } : new[] { "ln1", "ln2" }) Norm(b + n, d, ln);
            if (cfg.PostNorms)
                foreach (var n in cfg.AttnOnly ? new[] { "ln1_post" } : new[] { "ln1_post", "ln2_post" }) Norm(b + n, d, ln);
            if (cfg.QkNorm != QkNormKind.None)
            {
                bool joint = cfg.QkNorm == QkNormKind.Joint;
                Norm(b + "attn.q_norm", joint ? H * dh : dh, bias: false);
                Norm(b + "attn.k_norm", joint ? Hkv * dh : dh, bias: false);
            }
            sd[b + "attn.W_Q"] = Normal(H, d, dh);
            sd[b + "attn.W_K"] = Normal(Hkv, d, dh);
            sd[b + "attn.W_V"] = Normal(Hkv, d, dh);
            sd[b + "attn.W_O"] = Normal(H, dh, d);
            bool moe = !cfg.AttnOnly && cfg.IsMoe(l);
            if (moe)
            {
                int E = cfg.NExperts, de = cfg.DExpert;
                sd[b + "mlp.W_router"] = Normal(d, E);
                sd[b + "mlp.experts.W_gate"] = Normal(E, d, de);
                sd[b + "mlp.experts.W_in"] = Normal(E, d, de);
                sd[b + "mlp.experts.W_out"] = Normal(E, de, d);
            }
            else if (!cfg.AttnOnly)
            {
                sd[b + "mlp.W_in"] = Normal(d, dm);
                if (cfg.GatedMlp) sd[b + "mlp.W_gate"] = Normal(d, dm);
                sd[b + "mlp.W_out"] = Normal(dm, d);
            }
            if (biases.Value)
            {
                sd[b + "attn.b_Q"] = zeros(H, dh);
                sd[b + "attn.b_K"] = zeros(Hkv, dh);
                sd[b + "attn.b_V"] = zeros(Hkv, dh);
                sd[b + "attn.b_O"] = zeros(d);
                if (cfg.AttnOnly || moe) continue; // experts have no biases in any family
                sd[b + "mlp.b_in"] = zeros(dm);
                sd[b + "mlp.b_out"] = zeros(d);
            }
        }
        Norm("ln_final", d, ln);
        sd["unembed.W_U"] = Normal(d, cfg.VocabSize);
        return sd;
    }
}
