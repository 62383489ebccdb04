using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Seeded random weights for any config, in the TransformerLens layout: the starting point of training
/// and the stand-in for real checkpoints in tests and benchmarks. Matrices ~ N(0, std²) (GPT-2's 0.02
/// by default), norm weights 1, biases 0 where the architecture has them (LayerNorm families: GPT-2, NeoX).
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

        sd["embed.W_E"] = Normal(cfg.VocabSize, d);
        if (cfg.Positional == PositionalKind.Learned) sd["pos_embed.W_pos"] = Normal(cfg.ContextLength, d);
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string b = $"blocks.{l}.";
            foreach (var n in cfg.AttnOnly ? new[] { "ln1" } : new[] { "ln1", "ln2" })
            {
                sd[b + n + ".w"] = ones(d);
                if (ln) sd[b + n + ".b"] = zeros(d);
            }
            sd[b + "attn.W_Q"] = Normal(H, d, dh);
            sd[b + "attn.W_K"] = Normal(Hkv, d, dh);
            sd[b + "attn.W_V"] = Normal(Hkv, d, dh);
            sd[b + "attn.W_O"] = Normal(H, dh, d);
            if (!cfg.AttnOnly)
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
                if (cfg.AttnOnly) continue;
                sd[b + "mlp.b_in"] = zeros(dm);
                sd[b + "mlp.b_out"] = zeros(d);
            }
        }
        sd["ln_final.w"] = ones(d);
        if (ln) sd["ln_final.b"] = zeros(d);
        sd["unembed.W_U"] = Normal(d, cfg.VocabSize);
        return sd;
    }
}
