using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Phi-3 (<c>phi3</c>): Llama semantics with fused tensors — <c>self_attn.qkv_proj</c> rows [q; k; v] and
/// <c>mlp.gate_up_proj</c> rows [gate; up] — partial rotary (partial_rotary_factor) and a sliding window on every layer.
/// LongRoPE (rope_scaling type longrope, the 128k models) is refused by name.
/// </summary>
public sealed class Phi3Adapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "phi3" };

    public override ModelConfig ReadConfig(HfConfig hf) => (DecoderConfig.Read(hf) with
    {
        RotaryFraction = hf.Double("partial_rotary_factor", 1.0),
        NormEps = hf.Double("rms_norm_eps", 1e-5), // Phi3Config's default
    }).WithWindow(hf, hf.OptionalInt("sliding_window")).Validated();

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => new()
    {
        Qkv = QkvLayout.Concatenated, QkvNames = ["self_attn.qkv_proj"],
        Mlp = MlpLayout.GatedFused, MlpNames = ["mlp.gate_up_proj", "mlp.down_proj"],
    };
}
