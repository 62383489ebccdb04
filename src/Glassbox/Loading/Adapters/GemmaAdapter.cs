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
/// and local layers use rope_local_base_freq without rope_scaling. Fields a config leaves out take Transformers' class
/// defaults (head_dim 256, query_pre_attn_scalar 256, sliding_window 4096, Gemma 2's soft-caps 50 and 30); an explicit null
/// turns a soft-cap or the window off.
/// </summary>
public sealed class GemmaAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "gemma", "gemma2", "gemma3_text" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        var c = DecoderConfig.Read(hf, hf.Has("hidden_activation") ? "hidden_activation" : "hidden_act", "gelu_pytorch_tanh") with
        {
            DHead = hf.Int("head_dim", 256),
            TiedEmbeddings = hf.Bool("tie_word_embeddings", true),
        };
        if (hf.ModelType == "gemma") return c.WithWindow(hf, null).Validated();
        bool gemma2 = hf.ModelType == "gemma2";
        c = c with
        {
            PostNorms = true,
            AttnScale = 1 / Math.Sqrt(hf.Double("query_pre_attn_scalar", 256)),
            AttnSoftcap = hf.NullableDouble("attn_logit_softcapping", gemma2 ? 50.0 : null),
            FinalSoftcap = hf.NullableDouble("final_logit_softcapping", gemma2 ? 30.0 : null),
        };
        int? window = hf.NullableInt("sliding_window", 4096);
        if (gemma2) return c.WithWindow(hf, window, l => l % 2 == 0).Validated();
        int pattern = hf.Int("sliding_window_pattern", 6);
        return (c with { RotaryTheta = hf.Double("rope_theta", 1e6), QkNorm = QkNormKind.PerHead, LocalRotaryTheta = hf.Double("rope_local_base_freq", 10000.0) })
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
