using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Falcon (<c>falcon</c>): fused <c>self_attention.query_key_value</c> grouped per kv head ([the group's queries; k; v],
/// which for multi-query Falcon-7B is [all queries; k; v]); kv heads num_kv_heads under new_decoder_architecture, else 1
/// with multi_query, else one per head. Blocks are parallel — one shared input_layernorm (Falcon-7B) or ln_attn and
/// ln_mlp (Falcon-40B/180B) — or sequential without parallel_attn. LayerNorm with bias, exact GELU, linear biases only with
/// <c>bias</c>, rotary over the whole head. ALiBi (Falcon-RW) is refused by name.
/// </summary>
public sealed class FalconAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "falcon" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        hf.RefuseIf(hf.Bool("alibi", false), "alibi (ALiBi position biases)");
        int d = hf.Int("hidden_size", "n_embed"), heads = hf.Int("num_attention_heads", "n_head");
        bool newArch = hf.Bool("new_decoder_architecture", false);
        return new ModelConfig
        {
            Architecture = "falcon",
            NLayers = hf.Int("num_hidden_layers", "n_layer"),
            DModel = d,
            NHeads = heads,
            NKvHeads = newArch ? hf.Int("num_kv_heads") : hf.Bool("multi_query", true) ? 1 : heads,
            DMlp = hf.Int("ffn_hidden_size", 4 * d),
            VocabSize = hf.Int("vocab_size"),
            ContextLength = hf.Int("max_position_embeddings", 2048),
            Norm = NormKind.LayerNorm,
            NormEps = hf.Double("layer_norm_epsilon", 1e-5),
            Positional = PositionalKind.Rotary,
            RotaryTheta = hf.Double("rope_theta", 10000.0),
            RopeScaling = DecoderConfig.RopeScalingOf(hf),
            Act = Architectures.ParseActivation(hf, "activation", "gelu"),
            ParallelAttnMlp = newArch || hf.Bool("parallel_attn", true),
            TiedEmbeddings = hf.Bool("tie_word_embeddings", true),
            BosTokenId = hf.TokenId("bos_token_id"),
            EosTokenId = hf.TokenId("eos_token_id"),
        }.Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src)
    {
        bool twoNorms = src.Contains("transformer.h.0.ln_attn.weight");
        bool bias = src.Contains("transformer.h.0.self_attention.dense.bias");
        return new()
        {
            Prefix = "transformer.", Embed = "word_embeddings", Layers = "h", FinalNorm = "ln_f", NormBias = true,
            Ln1 = twoNorms ? "ln_attn" : "input_layernorm",
            Ln2 = twoNorms ? "ln_mlp" : c.ParallelAttnMlp ? "input_layernorm" : "post_attention_layernorm",
            Qkv = QkvLayout.PerKvGroup, QkvNames = ["self_attention.query_key_value"], QkvBias = bias,
            O = "self_attention.dense", OBias = bias,
            Mlp = MlpLayout.Plain, MlpNames = ["mlp.dense_h_to_4h", "mlp.dense_4h_to_h"], MlpBias = bias,
        };
    }
}
