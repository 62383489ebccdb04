using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// The Llama family on Hugging Face (<c>llama</c>, <c>mistral</c>, <c>qwen2</c>): RMSNorm, rotate-half
/// RoPE, SwiGLU (gate/up/down), grouped-query attention, nn.Linear weights [out, in]; Qwen2 adds
/// q/k/v biases. Mistral's sliding window caps the context (windowed attention is not emulated).
/// </summary>
public sealed class LlamaAdapter : IArchitectureAdapter
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
}
