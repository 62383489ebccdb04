using System.Text.Json.Nodes;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// The Llama family on Hugging Face (<c>llama</c>, <c>mistral</c>, <c>qwen2</c>): RMSNorm, rotate-half
/// RoPE, SwiGLU (gate/up/down), grouped-query attention, nn.Linear weights [out, in]; Qwen2 adds
/// q/k/v biases. Mistral's sliding window caps the context (windowed attention is not emulated).
/// </summary>
public sealed class LlamaAdapter : IArchitectureAdapter, IArchitectureExporter
{
    public IReadOnlyList<string> ModelTypes { get; } = new[] { "llama", "mistral", "qwen2" };

    public ModelConfig ReadConfig(HfConfig hf)
    {
        if (hf.Has("rope_scaling"))
            throw new ModelFormatException($"{hf.Path}: rope_scaling is not supported yet; only plain RoPE checkpoints load.");
        int heads = hf.Int("num_attention_heads"), d = hf.Int("hidden_size");
        int context = hf.Int("max_position_embeddings");
        if (hf.OptionalInt("sliding_window") is int window && window < context) context = window;
        return new ModelConfig
        {
            Architecture = hf.ModelType,
            NLayers = hf.Int("num_hidden_layers"),
            DModel = d,
            NHeads = heads,
            NKvHeads = hf.Int("num_key_value_heads", heads),
            DHead = hf.Int("head_dim", d / heads),
            DMlp = hf.Int("intermediate_size"),
            VocabSize = hf.Int("vocab_size"),
            ContextLength = context,
            Norm = NormKind.RmsNorm,
            NormEps = hf.Double("rms_norm_eps", 1e-6),
            Positional = PositionalKind.Rotary,
            RotaryLayout = RotaryLayout.Halves,
            RotaryTheta = hf.Double("rope_theta", 10000.0),
            Act = Architectures.ParseActivation(hf.String("hidden_act", "silu"), hf),
            GatedMlp = true,
            TiedEmbeddings = hf.Bool("tie_word_embeddings", false),
            BosTokenId = hf.OptionalInt("bos_token_id"),
            EosTokenId = hf.OptionalInt("eos_token_id"),
        }.Validated();
    }

    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        var embed = src.Read("model.embed_tokens.weight");
        sd["embed.W_E"] = embed;
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"model.layers.{l}.", b = $"blocks.{l}.";
            sd[b + "ln1.w"] = src.Read(h + "input_layernorm.weight");
            foreach (var (n, heads) in new[] { ("q", c.NHeads), ("k", c.NKvHeads), ("v", c.NKvHeads) })
            {
                string key = n.ToUpperInvariant();
                sd[b + "attn.W_" + key] = HeadLayout.ReaderFromLinear(src.Read($"{h}self_attn.{n}_proj.weight"), heads, c.DHead);
                if (src.Contains($"{h}self_attn.{n}_proj.bias"))
                    sd[b + "attn.b_" + key] = HeadLayout.Bias(src.Read($"{h}self_attn.{n}_proj.bias"), heads, c.DHead);
            }
            sd[b + "attn.W_O"] = HeadLayout.WriterFromLinear(src.Read(h + "self_attn.o_proj.weight"), c.NHeads, c.DHead);
            if (src.Contains(h + "self_attn.o_proj.bias")) sd[b + "attn.b_O"] = src.Read(h + "self_attn.o_proj.bias");
            sd[b + "ln2.w"] = src.Read(h + "post_attention_layernorm.weight");
            sd[b + "mlp.W_gate"] = src.Read(h + "mlp.gate_proj.weight").t();
            sd[b + "mlp.W_in"] = src.Read(h + "mlp.up_proj.weight").t();
            sd[b + "mlp.W_out"] = src.Read(h + "mlp.down_proj.weight").t();
        }
        sd["ln_final.w"] = src.Read("model.norm.weight");
        sd["unembed.W_U"] = src.Contains("lm_head.weight") ? src.Read("lm_head.weight").t() : embed.t();
        return sd;
    }

    /// <summary>qwen2 when the attention has q/k/v biases, else llama.</summary>
    public string ExportModelType(ModelConfig cfg) => cfg.Architecture == "qwen2" ? "qwen2" : "llama";

    public JsonObject ExportConfig(ModelConfig c)
    {
        if (c.Positional != PositionalKind.Rotary || c.Norm != NormKind.RmsNorm || !c.GatedMlp || c.ParallelAttnMlp || c.AttnOnly || c.RotaryFraction != 1)
            throw new GlassboxException($"A {c.Architecture} model cannot be written in Llama layout (needs RMSNorm, full rotary, a gated MLP).");
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
