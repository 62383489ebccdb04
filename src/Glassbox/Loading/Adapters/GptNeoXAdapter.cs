using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// GPT-NeoX / Pythia (<c>gpt_neox</c>): fused query_key_value whose output is laid out per head as
/// [q, k, v], partial rotary (rotate-half over the first rotary_pct of each head), LayerNorm,
/// parallel attention and MLP when use_parallel_residual; as a layout table, per-head [q; k; v] is grouped per kv head with groups of one.
/// </summary>
public sealed class GptNeoXAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "gpt_neox" };

    public override ModelConfig ReadConfig(HfConfig hf) => new ModelConfig
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

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => new()
    {
        Prefix = "gpt_neox.", Embed = "embed_in", FinalNorm = "final_layer_norm", LmHead = "embed_out", NormBias = true,
        Qkv = QkvLayout.PerKvGroup, QkvNames = ["attention.query_key_value"], QkvBias = true, O = "attention.dense", OBias = true,
        Mlp = MlpLayout.Plain, MlpNames = ["mlp.dense_h_to_4h", "mlp.dense_4h_to_h"], MlpBias = true,
    };
}
