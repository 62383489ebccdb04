using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// StableLM (<c>stablelm</c>): Llama layout with LayerNorms (weight and bias) instead of RMSNorm, SwiGLU, partial rotary
/// (partial_rotary_factor), q/k/v biases with use_qkv_bias, and a parallel block with one shared norm under
/// use_parallel_residual. Per-head q/k LayerNorm (qk_layernorm, StableLM 2 12B) is refused by name.
/// </summary>
public sealed class StableLmAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "stablelm" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        hf.RefuseIf(hf.Bool("qk_layernorm", false), "qk_layernorm (a LayerNorm with separate weights per head)");
        return (DecoderConfig.Read(hf) with
        {
            Norm = NormKind.LayerNorm,
            NormEps = hf.Double("layer_norm_eps", 1e-5),
            RotaryFraction = hf.Double("partial_rotary_factor", 0.25),
            ParallelAttnMlp = hf.Bool("use_parallel_residual", false),
        }).Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => new()
    {
        NormBias = true,
        QkvBias = src.Contains("model.layers.0.self_attn.q_proj.bias"),
        Ln2 = c.ParallelAttnMlp ? "input_layernorm" : "post_attention_layernorm",
    };
}
