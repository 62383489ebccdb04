using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Qwen3 and Qwen3-MoE (<c>qwen3</c>, <c>qwen3_moe</c>): Llama layout with an RMSNorm over each head's d_head applied to
/// queries and keys after projection, before RoPE (<c>self_attn.q_norm</c>, <c>k_norm</c>); optional q/k/v/o biases
/// (attention_bias). Qwen3-MoE makes layer l sparse when it is not in <c>mlp_only_layers</c> and
/// (l + 1) % <c>decoder_sparse_step</c> = 0: router <c>mlp.gate</c>, experts of width moe_intermediate_size, top
/// <c>num_experts_per_tok</c>, renormalised when <c>norm_topk_prob</c>.
/// </summary>
public sealed class Qwen3Adapter : DecoderFamily
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "qwen3", "qwen3_moe" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        var c = DecoderConfig.Read(hf) with { QkNorm = QkNormKind.PerHead };
        if (hf.ModelType == "qwen3") c = c with { DHead = hf.Int("head_dim", 128) }; // Qwen3Config's default; Qwen3-MoE's is hidden/heads
        if (hf.ModelType == "qwen3_moe")
        {
            int step = hf.Int("decoder_sparse_step", 1);
            var denseOnly = hf.Ints("mlp_only_layers") ?? [];
            hf.RefuseIf(step < 1, $"decoder_sparse_step {step}");
            c = c with
            {
                NExperts = hf.Int("num_experts"),
                ExpertsPerToken = hf.Int("num_experts_per_tok"),
                DExpert = hf.Int("moe_intermediate_size"),
                NormTopKProb = hf.Bool("norm_topk_prob", false),
                MoeLayers = Enumerable.Range(0, c.NLayers).Select(l => !denseOnly.Contains(l) && (l + 1) % step == 0).ToArray(),
            };
        }
        return c.WithQwenWindow(hf).Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src)
    {
        bool bias = src.Contains("model.layers.0.self_attn.q_proj.bias");
        return new() { QkvBias = bias, OBias = bias };
    }
}
