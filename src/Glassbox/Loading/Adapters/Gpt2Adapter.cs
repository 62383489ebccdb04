using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Hugging Face GPT-2 (<c>gpt2</c>): Conv1D weights stored [in, out], fused c_attn [d, 3d],
/// learned positions, LayerNorm, gelu_new, lm_head tied to the token embedding.
/// </summary>
public sealed class Gpt2Adapter : IArchitectureAdapter
{
    public IReadOnlyList<string> ModelTypes { get; } = new[] { "gpt2" };

    public ModelConfig ReadConfig(HfConfig hf)
    {
        int d = hf.Int("n_embd");
        return new ModelConfig
        {
            Architecture = "gpt2",
            NLayers = hf.Int("n_layer"),
            DModel = d,
            NHeads = hf.Int("n_head"),
            DMlp = hf.Has("n_inner") ? hf.Int("n_inner") : 4 * d,
            VocabSize = hf.Int("vocab_size"),
            ContextLength = hf.Int("n_positions", "n_ctx"),
            Norm = NormKind.LayerNorm,
            NormEps = hf.Double("layer_norm_epsilon", 1e-5),
            Positional = PositionalKind.Learned,
            Act = Architectures.ParseActivation(hf.String("activation_function", "gelu_new"), hf),
            TiedEmbeddings = hf.Bool("tie_word_embeddings", true),
            BosTokenId = hf.OptionalInt("bos_token_id"),
            EosTokenId = hf.OptionalInt("eos_token_id"),
        }.Validated();
    }

    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        // GPT2LMHeadModel prefixes "transformer."; a bare GPT2Model does not.
        string t = src.Contains("transformer.wte.weight") ? "transformer." : "";
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        var wte = src.Read(t + "wte.weight");
        sd["embed.W_E"] = wte;
        sd["pos_embed.W_pos"] = src.Read(t + "wpe.weight");
        int H = c.NHeads, dh = c.DHead, d = c.DModel;
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"{t}h.{l}.", b = $"blocks.{l}.";
            sd[b + "ln1.w"] = src.Read(h + "ln_1.weight");
            sd[b + "ln1.b"] = src.Read(h + "ln_1.bias");
            var qkv = src.Read(h + "attn.c_attn.weight").split(d, 1);
            var qkvBias = src.Read(h + "attn.c_attn.bias").split(d, 0);
            string[] names = { "Q", "K", "V" };
            for (int i = 0; i < 3; i++)
            {
                sd[b + "attn.W_" + names[i]] = HeadLayout.ReaderFromInputMajor(qkv[i], H, dh);
                sd[b + "attn.b_" + names[i]] = HeadLayout.Bias(qkvBias[i], H, dh);
            }
            sd[b + "attn.W_O"] = src.Read(h + "attn.c_proj.weight").view(H, dh, d);
            sd[b + "attn.b_O"] = src.Read(h + "attn.c_proj.bias");
            sd[b + "ln2.w"] = src.Read(h + "ln_2.weight");
            sd[b + "ln2.b"] = src.Read(h + "ln_2.bias");
            sd[b + "mlp.W_in"] = src.Read(h + "mlp.c_fc.weight");
            sd[b + "mlp.b_in"] = src.Read(h + "mlp.c_fc.bias");
            sd[b + "mlp.W_out"] = src.Read(h + "mlp.c_proj.weight");
            sd[b + "mlp.b_out"] = src.Read(h + "mlp.c_proj.bias");
        }
        sd["ln_final.w"] = src.Read(t + "ln_f.weight");
        sd["ln_final.b"] = src.Read(t + "ln_f.bias");
        sd["unembed.W_U"] = src.Contains("lm_head.weight") ? src.Read("lm_head.weight").t() : wte.t();
        return sd;
    }
}
