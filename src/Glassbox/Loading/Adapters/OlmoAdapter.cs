using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// OLMo 1 and 2 (<c>olmo</c>, <c>olmo2</c>). OLMo 1: Llama layout but every norm is a LayerNorm without weight or bias
/// (ε 1e-5; the checkpoint has no norm tensors), and clip_qkv clamps q, k and v. OLMo 2: no pre-norms — each block is
/// <c>h = x + post_attention_layernorm(attn(x))</c>, <c>out = h + post_feedforward_layernorm(mlp(h))</c> — and RMSNorm
/// over the whole projected q (all heads) and k before RoPE.
/// </summary>
public sealed class OlmoAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "olmo", "olmo2" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        var c = DecoderConfig.Read(hf);
        if (hf.ModelType == "olmo") return (c with { Norm = NormKind.LayerNorm, NormEps = 1e-5, QkvClip = hf.OptionalDouble("clip_qkv") }).Validated();
        return (c with { PreNorms = false, PostNorms = true, QkNorm = QkNormKind.Joint, NormEps = hf.Double("rms_norm_eps", 1e-5) }).Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => c.PostNorms
        ? new() { Ln1 = null, Ln2 = null, Ln1Post = "post_attention_layernorm", Ln2Post = "post_feedforward_layernorm" }
        : new() { Ln1 = null, Ln2 = null, FinalNorm = null };
}
