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
        RotaryFraction = hf.Double("rotary_pct", 1.0),
        RotaryTheta = hf.Has("rotary_emb_base") ? hf.Double("rotary_emb_base") : hf.Double("rope_theta", 10000.0),
        Act = Architectures.ParseActivation(hf.String("hidden_act", "gelu"), hf),
        ParallelAttnMlp = hf.Bool("use_parallel_residual", true),
        TiedEmbeddings = hf.Bool("tie_word_embeddings", false),
        BosTokenId = hf.OptionalInt("bos_token_id"),
        EosTokenId = hf.OptionalInt("eos_token_id"),
    }.Validated();

    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        var embed = src.Read("gpt_neox.embed_in.weight");
        sd["embed.W_E"] = embed;
        int H = c.NHeads, dh = c.DHead, d = c.DModel;
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"gpt_neox.layers.{l}.", b = $"blocks.{l}.";
            sd[b + "ln1.w"] = src.Read(h + "input_layernorm.weight");
            sd[b + "ln1.b"] = src.Read(h + "input_layernorm.bias");
            var qkv = src.Read(h + "attention.query_key_value.weight").view(H, 3, dh, d);
            var qkvBias = src.Read(h + "attention.query_key_value.bias").view(H, 3, dh);
            string[] names = { "Q", "K", "V" };
            for (int i = 0; i < 3; i++)
            {
                sd[b + "attn.W_" + names[i]] = qkv.select(1, i).transpose(1, 2);
                sd[b + "attn.b_" + names[i]] = qkvBias.select(1, i);
            }
            sd[b + "attn.W_O"] = HeadLayout.WriterFromLinear(src.Read(h + "attention.dense.weight"), H, dh);
            sd[b + "attn.b_O"] = src.Read(h + "attention.dense.bias");
            sd[b + "ln2.w"] = src.Read(h + "post_attention_layernorm.weight");
            sd[b + "ln2.b"] = src.Read(h + "post_attention_layernorm.bias");
            sd[b + "mlp.W_in"] = src.Read(h + "mlp.dense_h_to_4h.weight").t();
            sd[b + "mlp.b_in"] = src.Read(h + "mlp.dense_h_to_4h.bias");
            sd[b + "mlp.W_out"] = src.Read(h + "mlp.dense_4h_to_h.weight").t();
            sd[b + "mlp.b_out"] = src.Read(h + "mlp.dense_4h_to_h.bias");
        }
        sd["ln_final.w"] = src.Read("gpt_neox.final_layer_norm.weight");
        sd["ln_final.b"] = src.Read("gpt_neox.final_layer_norm.bias");
        sd["unembed.W_U"] = src.Contains("embed_out.weight") ? src.Read("embed_out.weight").t() : embed.t();
        return sd;
    }
}
