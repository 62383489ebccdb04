using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// The config.json fields that Llama-style families share, read once: sizes, RMSNorm ε, rotary base and
/// <c>rope_scaling</c>, activation, tying, special tokens, and the attention layout of each layer (sliding windows from
/// <c>layer_types</c> or the family's rule). Families start from <see cref="Read"/> and override what differs.
/// </summary>
public static class DecoderConfig
{
    public static ModelConfig Read(HfConfig hf, string activationKey = "hidden_act", string activationFallback = "silu")
    {
        int heads = hf.Int("num_attention_heads"), d = hf.Int("hidden_size");
        return new ModelConfig
        {
            Architecture = hf.ModelType,
            NLayers = hf.Int("num_hidden_layers"),
            DModel = d,
            NHeads = heads,
            NKvHeads = hf.Int("num_key_value_heads", heads),
            DHead = hf.Int("head_dim", heads > 0 ? d / heads : 0),
            DMlp = hf.Int("intermediate_size"),
            VocabSize = hf.Int("vocab_size"),
            ContextLength = hf.Int("max_position_embeddings"),
            Norm = NormKind.RmsNorm,
            NormEps = hf.Double("rms_norm_eps", 1e-6),
            Positional = PositionalKind.Rotary,
            RotaryLayout = RotaryLayout.Halves,
            RotaryTheta = hf.Double("rope_theta", 10000.0),
            RopeScaling = RopeScalingOf(hf),
            Act = Architectures.ParseActivation(hf, activationKey, activationFallback),
            GatedMlp = true,
            TiedEmbeddings = hf.Bool("tie_word_embeddings", false),
            BosTokenId = hf.TokenId("bos_token_id"),
            EosTokenId = hf.TokenId("eos_token_id"),
        };
    }

    /// <summary>
    /// <c>rope_scaling</c> (key <c>rope_type</c>, or the older <c>type</c>): linear and llama3 are implemented; default
    /// means none; any other type is refused by name rather than run as plain RoPE.
    /// </summary>
    public static RopeScaling? RopeScalingOf(HfConfig hf)
    {
        if (hf.Section("rope_scaling") is not { } rs) return null;
        string type = rs.Has("rope_type") ? rs.String("rope_type") : rs.String("type");
        return type switch
        {
            "default" => null,
            "linear" => new RopeScaling(RopeScalingKind.Linear, rs.Double("factor")),
            "llama3" => new RopeScaling(RopeScalingKind.Llama3, rs.Double("factor"), rs.Double("low_freq_factor"), rs.Double("high_freq_factor"),
                rs.Int("original_max_position_embeddings")),
            _ => throw new ModelFormatException($"{hf.Path}: rope_scaling type '{type}' is not supported (supported: linear, llama3); refusing rather than running plain RoPE."),
        };
    }

    /// <summary>
    /// Which layers use the sliding window: <c>layer_types</c> when the config has it (sliding_attention /
    /// full_attention), else <paramref name="rule"/> (null: every layer). Null when there is no window; as in Transformers,
    /// a layer marked sliding then attends fully. layer_types is checked either way, so no entry is ever ignored unread.
    /// </summary>
    public static ModelConfig WithWindow(this ModelConfig c, HfConfig hf, int? window, Func<int, bool>? rule = null)
    {
        var types = hf.Strings("layer_types");
        if (types is not null && types.Count != c.NLayers)
            throw new ModelFormatException($"{hf.Path}: config.json field 'layer_types' has {types.Count} entries for {c.NLayers} layers (num_hidden_layers).");
        var layers = types?.Select((t, l) => t switch
        {
            "sliding_attention" => true,
            "full_attention" => false,
            _ => throw new ModelFormatException($"{hf.Path}: config.json field 'layer_types' entry {l} is '{t}', an attention type Glassbox does not implement (supported: sliding_attention, full_attention)."),
        }).ToArray();
        if (window is null) return c with { SlidingWindow = null };
        layers ??= rule is null ? null : Enumerable.Range(0, c.NLayers).Select(rule).ToArray();
        return c with { SlidingWindow = window, SlidingLayers = layers };
    }

    /// <summary>Qwen2/Qwen3: a window only with use_sliding_window, on layers from max_window_layers (Transformers' default 28) on.</summary>
    public static ModelConfig WithQwenWindow(this ModelConfig c, HfConfig hf) =>
        c.WithWindow(hf, hf.Bool("use_sliding_window", false) ? hf.NullableInt("sliding_window", 4096) : null,
            l => l >= hf.Int("max_window_layers", 28));

    /// <summary>Refuses a config flag whose architecture Glassbox does not implement, naming it.</summary>
    public static void RefuseIf(this HfConfig hf, bool condition, string what)
    {
        if (condition) throw new ModelFormatException($"{hf.Path}: {what} is not supported; refusing rather than loading a different model.");
    }
}
