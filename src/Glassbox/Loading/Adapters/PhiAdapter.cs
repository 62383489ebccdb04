using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Phi-1/1.5/2 (<c>phi</c>): a parallel block with one LayerNorm feeding both attention and MLP,
/// <c>x + attn(ln(x)) + mlp(ln(x))</c> (ln2 holds a copy of the shared norm, so both branches read the same values);
/// partial rotary on the first int(partial_rotary_factor · d_head) dimensions; biases on q/k/v/dense/fc1/fc2 and on the
/// lm_head; gelu_new; final norm <c>model.final_layernorm</c>.
/// </summary>
public sealed class PhiAdapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "phi" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        hf.RefuseIf(hf.Bool("qk_layernorm", false), "qk_layernorm (a LayerNorm over each head's queries and keys)");
        return (DecoderConfig.Read(hf, activationFallback: "gelu_new") with
        {
            Norm = NormKind.LayerNorm,
            NormEps = hf.Double("layer_norm_eps", 1e-5),
            RotaryFraction = hf.Double("partial_rotary_factor", 0.5),
            GatedMlp = false,
            ParallelAttnMlp = true,
        }).Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => new()
    {
        Ln2 = "input_layernorm", NormBias = true, FinalNorm = "final_layernorm", LmHeadBias = true,
        QkvBias = true, O = "self_attn.dense", OBias = true,
        Mlp = MlpLayout.Plain, MlpNames = ["mlp.fc1", "mlp.fc2"], MlpBias = true,
    };
}
