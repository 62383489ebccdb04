using System.Text.Json.Nodes;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Hugging Face GPT-2 (<c>gpt2</c>): Conv1D weights stored [in, out], fused c_attn [d, 3d],
/// learned positions, LayerNorm, gelu_new, lm_head tied to the token embedding. Glassbox's
/// attention-only toy models use this layout with <c>"attn_only": true</c> and no MLP tensors.
/// </summary>
public sealed class Gpt2Adapter : IArchitectureAdapter, IArchitectureExporter
{
    public IReadOnlyList<string> ModelTypes { get; } = new[] { "gpt2" };

    public ModelConfig ReadConfig(HfConfig hf)
    {
        int d = hf.Int("n_embd");
        bool attnOnly = hf.Bool("attn_only", false);
        return new ModelConfig
        {
            Architecture = "gpt2",
            AttnOnly = attnOnly,
            NLayers = hf.Int("n_layer"),
            DModel = d,
            NHeads = hf.Int("n_head"),
            DMlp = attnOnly ? 0 : hf.Has("n_inner") ? hf.Int("n_inner") : 4 * d,
            VocabSize = hf.Int("vocab_size"),
            ContextLength = hf.Int("n_positions", "n_ctx"),
            Norm = NormKind.LayerNorm,
            NormEps = hf.Double("layer_norm_epsilon", 1e-5),
            Positional = PositionalKind.Learned,
            Act = Architectures.ParseActivation(hf, "activation_function", "gelu_new"),
            TiedEmbeddings = hf.Bool("tie_word_embeddings", true),
            BosTokenId = hf.TokenId("bos_token_id"),
            EosTokenId = hf.TokenId("eos_token_id"),
        }.Validated();
    }

    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        // GPT2LMHeadModel prefixes "transformer."; a bare GPT2Model does not.
        string t = src.Contains("transformer.wte.weight") ? "transformer." : "";
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        int H = c.NHeads, dh = c.DHead, d = c.DModel, dm = c.DMlp, V = c.VocabSize;
        var wte = src.ReadShaped(t + "wte.weight", V, d);
        sd["embed.W_E"] = wte;
        sd["pos_embed.W_pos"] = src.ReadShaped(t + "wpe.weight", c.ContextLength, d);
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"{t}h.{l}.", b = $"blocks.{l}.";
            sd[b + "ln1.w"] = src.ReadShaped(h + "ln_1.weight", d);
            sd[b + "ln1.b"] = src.ReadShaped(h + "ln_1.bias", d);
            var qkv = src.ReadShaped(h + "attn.c_attn.weight", d, 3 * d).split(d, 1);
            var qkvBias = src.ReadShaped(h + "attn.c_attn.bias", 3 * d).split(d, 0);
            string[] names = { "Q", "K", "V" };
            for (int i = 0; i < 3; i++)
            {
                sd[b + "attn.W_" + names[i]] = HeadLayout.ReaderFromInputMajor(qkv[i], H, dh);
                sd[b + "attn.b_" + names[i]] = HeadLayout.Bias(qkvBias[i], H, dh);
            }
            sd[b + "attn.W_O"] = src.ReadShaped(h + "attn.c_proj.weight", d, d).view(H, dh, d);
            sd[b + "attn.b_O"] = src.ReadShaped(h + "attn.c_proj.bias", d);
            if (c.AttnOnly) continue;
            sd[b + "ln2.w"] = src.ReadShaped(h + "ln_2.weight", d);
            sd[b + "ln2.b"] = src.ReadShaped(h + "ln_2.bias", d);
            sd[b + "mlp.W_in"] = src.ReadShaped(h + "mlp.c_fc.weight", d, dm);
            sd[b + "mlp.b_in"] = src.ReadShaped(h + "mlp.c_fc.bias", dm);
            sd[b + "mlp.W_out"] = src.ReadShaped(h + "mlp.c_proj.weight", dm, d);
            sd[b + "mlp.b_out"] = src.ReadShaped(h + "mlp.c_proj.bias", d);
        }
        sd["ln_final.w"] = src.ReadShaped(t + "ln_f.weight", d);
        sd["ln_final.b"] = src.ReadShaped(t + "ln_f.bias", d);
        sd["unembed.W_U"] = src.Contains("lm_head.weight") ? src.ReadShaped("lm_head.weight", V, d).t() : wte.t();
        return sd;
    }

    public string ExportModelType(ModelConfig cfg) => "gpt2";

    public JsonObject ExportConfig(ModelConfig c)
    {
        if (c.Positional != PositionalKind.Learned || c.Norm != NormKind.LayerNorm || c.GatedMlp || c.ParallelAttnMlp || c.NKvHeads != c.NHeads)
            throw new GlassboxException($"A {c.Architecture} model cannot be written in GPT-2 layout (needs learned positions, LayerNorm, a plain MLP, full attention heads).");
        var json = new JsonObject
        {
            ["model_type"] = "gpt2", ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["n_embd"] = c.DModel, ["n_layer"] = c.NLayers, ["n_head"] = c.NHeads, ["n_inner"] = c.AttnOnly ? null : c.DMlp,
            ["n_positions"] = c.ContextLength, ["n_ctx"] = c.ContextLength, ["vocab_size"] = c.VocabSize,
            ["layer_norm_epsilon"] = c.NormEps, ["activation_function"] = ActivationName(c.Act),
            ["tie_word_embeddings"] = c.TiedEmbeddings, ["bos_token_id"] = c.BosTokenId, ["eos_token_id"] = c.EosTokenId,
        };
        if (c.AttnOnly) json["attn_only"] = true;
        return json;
    }

    internal static string ActivationName(Activation a) => a switch
    {
        Activation.GeluNew => "gelu_new", Activation.Gelu => "gelu", Activation.Relu => "relu", Activation.Silu => "silu",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public IEnumerable<KeyValuePair<string, Tensor>> ExportTensors(ModelConfig c, StateDict sd)
    {
        if (sd.Contains("unembed.b_U")) throw new GlassboxException("GPT-2 layout has no unembedding bias; write the model before centring or folding into b_U.");
        int d = c.DModel;
        Tensor BiasOr(string name, long n) => sd.TryGet(name)?.reshape(n) ?? zeros(n);
        Tensor Fused(string b, string w) => sd[b + "attn.W_" + w].permute(1, 0, 2).reshape(d, d);
        yield return new("transformer.wte.weight", sd["embed.W_E"]);
        yield return new("transformer.wpe.weight", sd["pos_embed.W_pos"]);
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"transformer.h.{l}.", b = $"blocks.{l}.";
            yield return new(h + "ln_1.weight", sd[b + "ln1.w"]);
            yield return new(h + "ln_1.bias", BiasOr(b + "ln1.b", d));
            yield return new(h + "attn.c_attn.weight", cat(new[] { Fused(b, "Q"), Fused(b, "K"), Fused(b, "V") }, 1));
            yield return new(h + "attn.c_attn.bias", cat(new[] { BiasOr(b + "attn.b_Q", d), BiasOr(b + "attn.b_K", d), BiasOr(b + "attn.b_V", d) }));
            yield return new(h + "attn.c_proj.weight", sd[b + "attn.W_O"].reshape(d, d));
            yield return new(h + "attn.c_proj.bias", BiasOr(b + "attn.b_O", d));
            if (c.AttnOnly) continue;
            yield return new(h + "ln_2.weight", sd[b + "ln2.w"]);
            yield return new(h + "ln_2.bias", BiasOr(b + "ln2.b", d));
            yield return new(h + "mlp.c_fc.weight", sd[b + "mlp.W_in"]);
            yield return new(h + "mlp.c_fc.bias", BiasOr(b + "mlp.b_in", c.DMlp));
            yield return new(h + "mlp.c_proj.weight", sd[b + "mlp.W_out"]);
            yield return new(h + "mlp.c_proj.bias", BiasOr(b + "mlp.b_out", d));
        }
        yield return new("transformer.ln_f.weight", sd["ln_final.w"]);
        yield return new("transformer.ln_f.bias", BiasOr("ln_final.b", d));
        if (!c.TiedEmbeddings) yield return new("lm_head.weight", sd["unembed.W_U"].t());
    }
}
