using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// GPT-NeoX / Pythia (<c>gpt_neox</c>): fused query_key_value whose output is laid out per head as
/// [q, k, v], partial rotary (rotate-half over the first rotary_pct of each head), LayerNorm,
/// parallel attention and MLP when use_parallel_residual.
/// </summary>
public sealed class GptNeoXAdapter : IArchitectureAdapter
{
    public IReadOnlyList<string> ModelTypes { get; } = new[] { "gpt_neox" };

    public ModelConfig ReadConfig(HfConfig hf) => new ModelConfig
    {
        Architecture = "gpt_neox",
        NLayers = hf.Int("num_hidden_layers"),
        DModel = hf.Int("hidden_size"),
        NHeads = hf.Int("num_attention_heads"),
        DMlp = hf.Int("intermediate_size"),
        VocabSize = hf.Int("vocab_size"),
        ContextLength = hf.Int("max_position_embeddings"),
        Norm = NormKind.LayerNorm,
        NormEps = hf.Double("layer_norm_eps", 1e-5),
        Positional = PositionalKind.Rotary,
        RotaryLayout = RotaryLayout.Halves,
        RotaryFraction = hf.Double("rotary_pct", 0.25), // GPTNeoXConfig's default
        RopeScaling = DecoderConfig.RopeScalingOf(hf),
        RotaryTheta = hf.Has("rotary_emb_base") ? hf.Double("rotary_emb_base") : hf.Double("rope_theta", 10000.0),
        Act = Architectures.ParseActivation(hf, "hidden_act", "gelu"),
        ParallelAttnMlp = hf.Bool("use_parallel_residual", true),
        TiedEmbeddings = hf.Bool("tie_word_embeddings", false),
        BosTokenId = hf.TokenId("bos_token_id"),
        EosTokenId = hf.TokenId("eos_token_id"),
    }.Validated();

    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        int H = c.NHeads, dh = c.DHead, d = c.DModel, dm = c.DMlp, V = c.VocabSize;
        var embed = src.ReadShaped("gpt_neox.embed_in.weight", V, d);
        sd["embed.W_E"] = embed;
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"gpt_neox.layers.{l}.", b = $"blocks.{l}.";
            sd[b + "ln1.w"] = src.ReadShaped(h + "input_layernorm.weight", d);
            sd[b + "ln1.b"] = src.ReadShaped(h + "input_layernorm.bias", d);
            var qkv = src.ReadShaped(h + "attention.query_key_value.weight", 3 * H * dh, d).view(H, 3, dh, d);
            var qkvBias = src.ReadShaped(h + "attention.query_key_value.bias", 3 * H * dh).view(H, 3, dh);
            string[] names = { "Q", "K", "V" };
            for (int i = 0; i < 3; i++)
            {
                sd[b + "attn.W_" + names[i]] = qkv.select(1, i).transpose(1, 2);
                sd[b + "attn.b_" + names[i]] = qkvBias.select(1, i);
            }
            sd[b + "attn.W_O"] = HeadLayout.WriterFromLinear(src.ReadShaped(h + "attention.dense.weight", d, H * dh), H, dh);
            sd[b + "attn.b_O"] = src.ReadShaped(h + "attention.dense.bias", d);
            sd[b + "ln2.w"] = src.ReadShaped(h + "post_attention_layernorm.weight", d);
            sd[b + "ln2.b"] = src.ReadShaped(h + "post_attention_layernorm.bias", d);
            sd[b + "mlp.W_in"] = src.ReadShaped(h + "mlp.dense_h_to_4h.weight", dm, d).t();
            sd[b + "mlp.b_in"] = src.ReadShaped(h + "mlp.dense_h_to_4h.bias", dm);
            sd[b + "mlp.W_out"] = src.ReadShaped(h + "mlp.dense_4h_to_h.weight", d, dm).t();
            sd[b + "mlp.b_out"] = src.ReadShaped(h + "mlp.dense_4h_to_h.bias", d);
        }
        sd["ln_final.w"] = src.ReadShaped("gpt_neox.final_layer_norm.weight", d);
        sd["ln_final.b"] = src.ReadShaped("gpt_neox.final_layer_norm.bias", d);
        sd["unembed.W_U"] = src.Contains("embed_out.weight") ? src.ReadShaped("embed_out.weight", V, d).t() : embed.t();
        return sd;
    }
}
