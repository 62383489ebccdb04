using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>How a checkpoint stores q, k and v.</summary>
public enum QkvLayout
{
    /// <summary>Three nn.Linear tensors (q_proj, k_proj, v_proj).</summary>
    Separate,
    /// <summary>One tensor, rows [q (all heads); k; v] (Phi-3's qkv_proj).</summary>
    Concatenated,
    /// <summary>One tensor, rows grouped per kv head g: [the queries of g; k_g; v_g] (Falcon; GPT-NeoX with groups of one).</summary>
    PerKvGroup,
}

/// <summary>How a checkpoint stores the MLP.</summary>
public enum MlpLayout
{
    /// <summary>gate, up and down nn.Linear: <c>down(act(gate x) ⊙ up x)</c>.</summary>
    Gated,
    /// <summary>One gate_up tensor, rows [gate; up] (Phi-3), and down.</summary>
    GatedFused,
    /// <summary>fc_in and fc_out: <c>fc_out(act(fc_in x))</c>.</summary>
    Plain,
}

/// <summary>
/// A table of where a decoder checkpoint keeps each component and which storage quirks apply: names are relative to
/// <see cref="Prefix"/> (embedding, final norm) or to the layer's prefix <c>{Prefix}{Layers}.{l}.</c>. A null norm name
/// means the checkpoint has no tensor for it (a non-parametric or absent norm, as the config says).
/// <see cref="Convert"/> turns it into the TransformerLens-shaped state dict, so a family's adapter is its config reader
/// plus one of these.
/// </summary>
public sealed record DecoderLayout
{
    public string Prefix { get; init; } = "model.";
    public string Embed { get; init; } = "embed_tokens";
    public string Layers { get; init; } = "layers";
    public string? FinalNorm { get; init; } = "norm";
    /// <summary>Unprefixed; absent from the file when the embeddings are tied.</summary>
    public string LmHead { get; init; } = "lm_head";
    public bool LmHeadBias { get; init; }

    public string? Ln1 { get; init; } = "input_layernorm";
    /// <summary>The MLP's pre-norm; the same name as <see cref="Ln1"/> when one norm feeds both (Phi, Falcon-7B).</summary>
    public string? Ln2 { get; init; } = "post_attention_layernorm";
    public string? Ln1Post { get; init; }
    public string? Ln2Post { get; init; }
    /// <summary>Norm tensors carry bias vectors (LayerNorm families).</summary>
    public bool NormBias { get; init; }
    /// <summary>Gemma: norm weights are stored as offsets w of a (1 + w) scale.</summary>
    public bool NormWeightOffset { get; init; }

    public QkvLayout Qkv { get; init; } = QkvLayout.Separate;
    /// <summary>q, k, v projections (Separate) or the fused tensor's name (first entry).</summary>
    public string[] QkvNames { get; init; } = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"];
    public bool QkvBias { get; init; }
    public string O { get; init; } = "self_attn.o_proj";
    public bool OBias { get; init; }
    public string QNorm { get; init; } = "self_attn.q_norm";
    public string KNorm { get; init; } = "self_attn.k_norm";

    public MlpLayout Mlp { get; init; } = MlpLayout.Gated;
    /// <summary>Gated: gate, up, down; GatedFused: gate_up, down; Plain: fc_in, fc_out.</summary>
    public string[] MlpNames { get; init; } = ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
    public bool MlpBias { get; init; }

    /// <summary>MoE layers: the router, and each expert's gate, up and down with <c>{e}</c> for the expert index.</summary>
    public string Router { get; init; } = "mlp.gate";
    public string[] ExpertNames { get; init; } = ["mlp.experts.{e}.gate_proj", "mlp.experts.{e}.up_proj", "mlp.experts.{e}.down_proj"];

    /// <summary>Gemma: the embedding is multiplied by √d_model on the way in (folded into W_E, not into a tied W_U).</summary>
    public bool EmbedScale { get; init; }

    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        int d = c.DModel;
        var embed = src.Read(Prefix + Embed + ".weight");
        sd["embed.W_E"] = EmbedScale ? embed * Math.Sqrt(d) : embed;
        void Norm(string prefix, string? name, string target)
        {
            if (name is null) return;
            var w = src.Read(prefix + name + ".weight");
            sd[target + ".w"] = NormWeightOffset ? w + 1 : w;
            if (NormBias) sd[target + ".b"] = src.Read(prefix + name + ".bias");
        }
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"{Prefix}{Layers}.{l}.", b = $"blocks.{l}.";
            if (c.PreNorms) NormOrOnes(Ln1, b + "ln1");
            if (c.PostNorms) { Norm(h, Ln1Post, b + "ln1_post"); Norm(h, Ln2Post, b + "ln2_post"); }
            if (c.QkNorm != QkNormKind.None) { Norm(h, QNorm, b + "attn.q_norm"); Norm(h, KNorm, b + "attn.k_norm"); }
            ReadAttention(c, src, sd, h, b);
            if (c.AttnOnly) continue;
            if (c.PreNorms) NormOrOnes(Ln2, b + "ln2");
            if (c.IsMoe(l)) ReadExperts(c, src, sd, h, b);
            else ReadMlp(src, sd, h, b);

            // A norm without tensors is non-parametric (OLMo's LayerNorm): weight ones, no bias.
            void NormOrOnes(string? name, string target)
            {
                if (name is null) sd[target + ".w"] = ones(d);
                else Norm(h, name, target);
            }
        }
        if (FinalNorm is null) sd["ln_final.w"] = ones(d);
        else Norm(Prefix, FinalNorm, "ln_final");
        sd["unembed.W_U"] = src.Contains(LmHead + ".weight") ? src.Read(LmHead + ".weight").t()
            : c.TiedEmbeddings ? embed.t() : src.Read(LmHead + ".weight");
        if (LmHeadBias) sd["unembed.b_U"] = src.Read(LmHead + ".bias");
        return sd;
    }

    void ReadAttention(ModelConfig c, ITensorSource src, StateDict sd, string h, string b)
    {
        int H = c.NHeads, Hkv = c.NKvHeads, dh = c.DHead;
        Tensor[] w, bias;
        if (Qkv == QkvLayout.Separate)
        {
            w = QkvNames.Select(n => src.Read(h + n + ".weight")).ToArray();
            bias = QkvBias ? QkvNames.Select(n => src.Read(h + n + ".bias")).ToArray() : [];
        }
        else
        {
            w = SplitFused(src.Read(h + QkvNames[0] + ".weight"), H, Hkv, dh);
            bias = QkvBias ? SplitFused(src.Read(h + QkvNames[0] + ".bias"), H, Hkv, dh) : [];
        }
        string[] keys = ["Q", "K", "V"];
        int[] heads = [H, Hkv, Hkv];
        for (int i = 0; i < 3; i++)
        {
            sd[b + "attn.W_" + keys[i]] = HeadLayout.ReaderFromLinear(Expect(w[i], h + QkvNames[Math.Min(i, QkvNames.Length - 1)], heads[i] * dh, c.DModel), heads[i], dh);
            if (QkvBias) sd[b + "attn.b_" + keys[i]] = HeadLayout.Bias(bias[i], heads[i], dh);
        }
        sd[b + "attn.W_O"] = HeadLayout.WriterFromLinear(Expect(src.Read(h + O + ".weight"), h + O, c.DModel, H * dh), H, dh);
        if (OBias) sd[b + "attn.b_O"] = src.Read(h + O + ".bias");
    }

    /// <summary>q [H·dh, …], k and v [Hkv·dh, …] from a fused tensor's rows (weight [rows, d] or bias [rows]).</summary>
    Tensor[] SplitFused(Tensor fused, int H, int Hkv, int dh)
    {
        long rows = (long)(H + 2 * Hkv) * dh;
        if (fused.shape[0] != rows)
            throw new ModelFormatException($"Fused q/k/v tensor {QkvNames[0]} has {fused.shape[0]} rows, expected {rows} for {H} heads and {Hkv} kv heads of {dh}.");
        if (Qkv == QkvLayout.Concatenated) return fused.split([H * dh, Hkv * dh, Hkv * dh], 0);
        var rest = fused.shape.Skip(1).ToArray();
        int group = H / Hkv;
        var grouped = fused.reshape([Hkv, group + 2, dh, .. rest]);
        Tensor Rows(Tensor t) => t.reshape([-1, .. rest]);
        return [Rows(grouped.narrow(1, 0, group)), Rows(grouped.narrow(1, group, 1)), Rows(grouped.narrow(1, group + 1, 1))];
    }

    void ReadMlp(ITensorSource src, StateDict sd, string h, string b)
    {
        Tensor Weight(string n) => src.Read(h + n + ".weight").t();
        Tensor? Bias(string n) => MlpBias ? src.Read(h + n + ".bias") : null;
        void Put(string name, Tensor? t) { if (t is not null) sd[b + name] = t; }
        switch (Mlp)
        {
            case MlpLayout.Gated:
                Put("mlp.W_gate", Weight(MlpNames[0])); Put("mlp.b_gate", Bias(MlpNames[0]));
                Put("mlp.W_in", Weight(MlpNames[1])); Put("mlp.b_in", Bias(MlpNames[1]));
                Put("mlp.W_out", Weight(MlpNames[2])); Put("mlp.b_out", Bias(MlpNames[2]));
                break;
            case MlpLayout.GatedFused:
                var gateUp = Weight(MlpNames[0]).chunk(2, 1);
                Put("mlp.W_gate", gateUp[0]);
                Put("mlp.W_in", gateUp[1]);
                Put("mlp.W_out", Weight(MlpNames[1]));
                break;
            default:
                Put("mlp.W_in", Weight(MlpNames[0])); Put("mlp.b_in", Bias(MlpNames[0]));
                Put("mlp.W_out", Weight(MlpNames[1])); Put("mlp.b_out", Bias(MlpNames[1]));
                break;
        }
    }

    void ReadExperts(ModelConfig c, ITensorSource src, StateDict sd, string h, string b)
    {
        sd[b + "mlp.W_router"] = Expect(src.Read(h + Router + ".weight"), h + Router, c.NExperts, c.DModel).t();
        Tensor Stack(int which) => stack(Enumerable.Range(0, c.NExperts)
            .Select(e => src.Read(h + ExpertNames[which].Replace("{e}", e.ToString()) + ".weight").t()).ToArray());
        sd[b + "mlp.experts.W_gate"] = Stack(0);
        sd[b + "mlp.experts.W_in"] = Stack(1);
        sd[b + "mlp.experts.W_out"] = Stack(2);
    }

    static Tensor Expect(Tensor t, string name, params long[] shape) => t.shape.SequenceEqual(shape) ? t
        : throw new ModelFormatException($"Tensor {name} has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}] from config.json.");
}
