using System.Text.Json.Nodes;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// The Llama family on Hugging Face (<c>llama</c> — Llama 2/3.x, SmolLM2 —, <c>mistral</c>, <c>qwen2</c>): RMSNorm,
/// rotate-half RoPE (with Llama 3.1's or linear rope_scaling), SwiGLU (gate/up/down), grouped-query attention,
/// nn.Linear weights [out, in]. Qwen2 adds q/k/v biases; Mistral windows every layer; Qwen2 windows the layers from
/// max_window_layers on, and only with use_sliding_window. Fields a config leaves out take Transformers' class defaults.
/// </summary>
public sealed class LlamaAdapter : DecoderFamily, IArchitectureExporter
{
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "llama", "mistral", "qwen2" };

    public override ModelConfig ReadConfig(HfConfig hf)
    {
        var c = DecoderConfig.Read(hf);
        // Llama has no sliding window (Transformers ignores the key there); Mistral's is 4096 unless the config says otherwise.
        c = hf.ModelType switch
        {
            "qwen2" => c.WithQwenWindow(hf),
            "mistral" => c.WithWindow(hf, hf.NullableInt("sliding_window", 4096)),
            _ => c.WithWindow(hf, null),
        };
        return c.Validated();
    }

    protected override DecoderLayout Layout(ModelConfig c, ITensorSource src) => new()
    {
        QkvBias = c.Architecture == "qwen2" || src.Contains("model.layers.0.self_attn.q_proj.bias"),
        OBias = src.Contains("model.layers.0.self_attn.o_proj.bias"),
        MlpBias = src.Contains("model.layers.0.mlp.up_proj.bias"),
    };

    /// <summary>qwen2 when the attention has q/k/v biases, else llama.</summary>
    public string ExportModelType(ModelConfig cfg) => cfg.Architecture == "qwen2" ? "qwen2" : "llama";

    public JsonObject ExportConfig(ModelConfig c)
    {
        if (c.Positional != PositionalKind.Rotary || c.Norm != NormKind.RmsNorm || !c.GatedMlp || c.ParallelAttnMlp || c.AttnOnly || c.RotaryFraction != 1)
            throw new GlassboxException($"A {c.Architecture} model cannot be written in Llama layout (needs RMSNorm, full rotary, a gated MLP).");
        if (c.RopeScaling is not null || c.SlidingWindow is not null || c.QkNorm != QkNormKind.None || c.PostNorms || !c.PreNorms || c.NExperts > 0
            || c.AttnScale is not null || c.AttnSoftcap is not null || c.FinalSoftcap is not null || c.QkvClip is not null)
            throw new GlassboxException($"A {c.Architecture} model cannot be written in Llama layout: it has components Llama lacks ({c}).");
        return new JsonObject
        {
            ["model_type"] = ExportModelType(c), ["architectures"] = new JsonArray(c.Architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
            ["hidden_size"] = c.DModel, ["intermediate_size"] = c.DMlp, ["num_hidden_layers"] = c.NLayers,
            ["num_attention_heads"] = c.NHeads, ["num_key_value_heads"] = c.NKvHeads, ["head_dim"] = c.DHead,
            ["max_position_embeddings"] = c.ContextLength, ["rms_norm_eps"] = c.NormEps, ["rope_theta"] = c.RotaryTheta,
            ["vocab_size"] = c.VocabSize, ["hidden_act"] = Gpt2Adapter.ActivationName(c.Act), ["tie_word_embeddings"] = c.TiedEmbeddings,
            ["bos_token_id"] = c.BosTokenId, ["eos_token_id"] = c.EosTokenId,
        };
    }

    public IEnumerable<KeyValuePair<string, Tensor>> ExportTensors(ModelConfig c, StateDict sd)
    {
        if (c.RotaryLayout != RotaryLayout.Halves)
            throw new GlassboxException("Only rotate-half (Hugging Face) rotary layouts are written in Llama layout.");
        if (sd.Contains("unembed.b_U")) throw new GlassboxException("Llama layout has no unembedding bias; write the model before centring or folding into b_U.");
        yield return new("model.embed_tokens.weight", sd["embed.W_E"]);
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"model.layers.{l}.", b = $"blocks.{l}.";
            foreach (var n in new[] { "mlp.b_in", "mlp.b_gate", "mlp.b_out", "attn.b_O" })
                if (sd.Contains(b + n)) throw new GlassboxException($"Llama layout has no '{n}' bias; write the model before folding biases into it.");
            yield return new(h + "input_layernorm.weight", sd[b + "ln1.w"]);
            foreach (var n in new[] { "q", "k", "v" })
            {
                var w = sd[b + "attn.W_" + n.ToUpperInvariant()]; // [heads, d_model, d_head] → [heads·d_head, d_model]
                yield return new($"{h}self_attn.{n}_proj.weight", w.transpose(1, 2).reshape(-1, c.DModel));
                if (sd.TryGet(b + "attn.b_" + n.ToUpperInvariant()) is { } bias) yield return new($"{h}self_attn.{n}_proj.bias", bias.reshape(-1));
            }
            yield return new(h + "self_attn.o_proj.weight", sd[b + "attn.W_O"].reshape(-1, c.DModel).t());
            yield return new(h + "post_attention_layernorm.weight", sd[b + "ln2.w"]);
            yield return new(h + "mlp.gate_proj.weight", sd[b + "mlp.W_gate"].t());
            yield return new(h + "mlp.up_proj.weight", sd[b + "mlp.W_in"].t());
            yield return new(h + "mlp.down_proj.weight", sd[b + "mlp.W_out"].t());
        }
        yield return new("model.norm.weight", sd["ln_final.w"]);
        if (!c.TiedEmbeddings) yield return new("lm_head.weight", sd["unembed.W_U"].t());
    }
}
