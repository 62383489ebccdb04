using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Gemma 1, 2 and 3 (<c>gemma</c>, <c>gemma2</c>, <c>gemma3_text</c>). All: RMSNorm weights stored as offsets w of a
/// (1 + w) scale, embeddings × √d_model (folded into W_E, as TransformerLens does; a tied W_U stays unscaled), GeGLU with
/// the tanh GELU (<c>hidden_activation</c>, else <c>hidden_act</c>), explicit head_dim, tied embeddings.
/// Gemma 2 and 3: four norms per layer (the attention and MLP outputs are normalised before joining the residual:
/// ln1_post, ln2_post; the MLP's pre-norm is pre_feedforward_layernorm), scores scaled by query_pre_attn_scalar^−½, local
/// (sliding-window) and global layers from layer_types (Gemma 2 otherwise: even layers local; Gemma 3: every
/// sliding_window_pattern-th layer global). Gemma 2: attention and final-logit soft-capping. Gemma 3: q/k norm per head,
/// and local layers use rope_local_base_freq without rope_scaling.
/// </summary>
public sealed class GemmaAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "gemma", "gemma2", "gemma3_text" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        // Transformers' Gemma MLPs read hidden_activation (default the tanh GELU) and ignore the older hidden_act.
        bool gemma3 = hf.ModelType == "gemma3_text";
        var c = DecoderConfig.Read(hf, "hidden_activation", headDim: 256, theta: gemma3 ? 1e6 : 10000.0, activation: "gelu_pytorch_tanh")
            with { TiedEmbeddings = hf.Bool("tie_word_embeddings", true) };
        if (hf.ModelType == "gemma") return c.Validated();
        c = c with
        {
            PostNorms = true,
            AttnScale = 1 / Math.Sqrt(hf.Double("query_pre_attn_scalar", 256)),
            // Gemma 2 defaults to caps of 50 and 30 unless the config switches them off with null; Gemma 3 has none by default.
            AttnSoftcap = hf.NullableDouble("attn_logit_softcapping", gemma3 ? null : 50.0),
            FinalSoftcap = hf.NullableDouble("final_logit_softcapping", gemma3 ? null : 30.0),
        };
        int? window = hf.NullableInt("sliding_window", 4096);
        if (!gemma3) return c.WithWindow(hf, window, l => l % 2 == 0).Validated();
        int pattern = hf.Int("sliding_window_pattern", 6);
        return (c with { QkNorm = QkNormKind.PerHead, LocalRotaryTheta = hf.Double("rope_local_base_freq", 10000.0) })
            .WithWindow(hf, window, l => (l + 1) % pattern != 0).Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => c.PostNorms
        ? new()
        {
            NormWeightOffset = true, EmbedScale = true,
            Ln1Post = "post_attention_layernorm", Ln2 = "pre_feedforward_layernorm", Ln2Post = "post_feedforward_layernorm",
        }
        : new() { NormWeightOffset = true, EmbedScale = true };
}
