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

    /// <summary>
    /// Reads every tensor with the shape config.json implies (a different one is an error naming the checkpoint tensor,
    /// so no broadcast or reshape can quietly build another model).
    /// </summary>
    public StateDict Convert(ModelConfig c, ITensorSource src)
    {
        var sd = new StateDict();
        using var scope = NewDisposeScope();
        int d = c.DModel, V = c.VocabSize, H = c.NHeads, Hkv = c.NKvHeads, dh = c.DHead;
        var embed = src.ReadShaped(Prefix + Embed + ".weight", V, d);
        sd["embed.W_E"] = EmbedScale ? embed * Math.Sqrt(d) : embed;
        void Norm(string prefix, string? name, string target, long width)
        {
            if (name is null) return;
            var w = src.ReadShaped(prefix + name + ".weight", width);
            sd[target + ".w"] = NormWeightOffset ? w + 1 : w;
            if (NormBias) sd[target + ".b"] = src.ReadShaped(prefix + name + ".bias", width);
        }
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"{Prefix}{Layers}.{l}.", b = $"blocks.{l}.";
            if (c.PreNorms) NormOrOnes(Ln1, b + "ln1");
            if (c.PostNorms) { Norm(h, Ln1Post, b + "ln1_post", d); Norm(h, Ln2Post, b + "ln2_post", d); }
            if (c.QkNorm != QkNormKind.None)
            {
                bool joint = c.QkNorm == QkNormKind.Joint;
                Norm(h, QNorm, b + "attn.q_norm", joint ? H * dh : dh);
                Norm(h, KNorm, b + "attn.k_norm", joint ? Hkv * dh : dh);
            }
            ReadAttention(c, src, sd, h, b);
            if (c.AttnOnly) continue;
            if (c.PreNorms) NormOrOnes(Ln2, b + "ln2");
            if (c.IsMoe(l)) ReadExperts(c, src, sd, h, b);
            else ReadMlp(c, src, sd, h, b);

            // A norm without tensors is non-parametric (OLMo's LayerNorm): weight ones, no bias.
            void NormOrOnes(string? name, string target)
            {
                if (name is null) sd[target + ".w"] = ones(d);
                else Norm(h, name, target, d);
            }
        }
        if (FinalNorm is null) sd["ln_final.w"] = ones(d);
        else Norm(Prefix, FinalNorm, "ln_final", d);
        sd["unembed.W_U"] = src.Contains(LmHead + ".weight") || !c.TiedEmbeddings ? src.ReadShaped(LmHead + ".weight", V, d).t() : embed.t();
        if (LmHeadBias) sd["unembed.b_U"] = src.ReadShaped(LmHead + ".bias", V);
        return sd;
    }

    void ReadAttention(ModelConfig c, ITensorSource src, StateDict sd, string h, string b)
    {
        int d = c.DModel, H = c.NHeads, Hkv = c.NKvHeads, dh = c.DHead;
        int[] heads = [H, Hkv, Hkv];
        Tensor[] w, bias;
        if (Qkv == QkvLayout.Separate)
        {
            w = QkvNames.Select((n, i) => src.ReadShaped(h + n + ".weight", heads[i] * dh, d)).ToArray();
            bias = QkvBias ? QkvNames.Select((n, i) => src.ReadShaped(h + n + ".bias", heads[i] * dh)).ToArray() : [];
        }
        else
        {
            long rows = (long)(H + 2 * Hkv) * dh; // q, k and v rows for H heads and Hkv kv heads of d_head
            w = SplitFused(src.ReadShaped(h + QkvNames[0] + ".weight", rows, d), H, Hkv, dh);
            bias = QkvBias ? SplitFused(src.ReadShaped(h + QkvNames[0] + ".bias", rows), H, Hkv, dh) : [];
        }
        string[] keys = ["Q", "K", "V"];
        for (int i = 0; i < 3; i++)
        {
            sd[b + "attn.W_" + keys[i]] = HeadLayout.ReaderFromLinear(w[i], heads[i], dh);
            if (QkvBias) sd[b + "attn.b_" + keys[i]] = HeadLayout.Bias(bias[i], heads[i], dh);
        }
        sd[b + "attn.W_O"] = HeadLayout.WriterFromLinear(src.ReadShaped(h + O + ".weight", d, H * dh), H, dh);
        if (OBias) sd[b + "attn.b_O"] = src.ReadShaped(h + O + ".bias", d);
    }

    /// <summary>q [H·dh, …], k and v [Hkv·dh, …] from a fused tensor's rows (weight [rows, d] or bias [rows]).</summary>
    Tensor[] SplitFused(Tensor fused, int H, int Hkv, int dh)
    {
        if (Qkv == QkvLayout.Concatenated) return fused.split([H * dh, Hkv * dh, Hkv * dh], 0);
        var rest = fused.shape.Skip(1).ToArray();
        int group = H / Hkv;
        var grouped = fused.reshape([Hkv, group + 2, dh, .. rest]);
        Tensor Rows(Tensor t) => t.reshape([-1, .. rest]);
        return [Rows(grouped.narrow(1, 0, group)), Rows(grouped.narrow(1, group, 1)), Rows(grouped.narrow(1, group + 1, 1))];
    }

    void ReadMlp(ModelConfig c, ITensorSource src, StateDict sd, string h, string b)
    {
        int d = c.DModel, dm = c.DMlp;
        // nn.Linear weights are [out, in]; W_in/W_gate are [d_model, d_mlp] and W_out [d_mlp, d_model].
        Tensor Weight(string n, long rows, long cols) => src.ReadShaped(h + n + ".weight", rows, cols).t();
        Tensor? Bias(string n, long width) => MlpBias ? src.ReadShaped(h + n + ".bias", width) : null;
        void Put(string name, Tensor? t) { if (t is not null) sd[b + name] = t; }
        switch (Mlp)
        {
            case MlpLayout.Gated:
                Put("mlp.W_gate", Weight(MlpNames[0], dm, d)); Put("mlp.b_gate", Bias(MlpNames[0], dm));
                Put("mlp.W_in", Weight(MlpNames[1], dm, d)); Put("mlp.b_in", Bias(MlpNames[1], dm));
                Put("mlp.W_out", Weight(MlpNames[2], d, dm)); Put("mlp.b_out", Bias(MlpNames[2], d));
                break;
            case MlpLayout.GatedFused:
                var gateUp = Weight(MlpNames[0], 2 * dm, d).chunk(2, 1);
                Put("mlp.W_gate", gateUp[0]);
                Put("mlp.W_in", gateUp[1]);
                Put("mlp.W_out", Weight(MlpNames[1], d, dm));
                break;
            default:
                Put("mlp.W_in", Weight(MlpNames[0], dm, d)); Put("mlp.b_in", Bias(MlpNames[0], dm));
                Put("mlp.W_out", Weight(MlpNames[1], d, dm)); Put("mlp.b_out", Bias(MlpNames[1], d));
                break;
        }
    }

    void ReadExperts(ModelConfig c, ITensorSource src, StateDict sd, string h, string b)
    {
        int d = c.DModel, de = c.DExpert;
        sd[b + "mlp.W_router"] = src.ReadShaped(h + Router + ".weight", c.NExperts, d).t();
        Tensor Stack(int which, long rows, long cols) => stack(Enumerable.Range(0, c.NExperts)
            .Select(e => src.ReadShaped(h + ExpertNames[which].Replace("{e}", e.ToString()) + ".weight", rows, cols).t()).ToArray());
        sd[b + "mlp.experts.W_gate"] = Stack(0, de, d);
        sd[b + "mlp.experts.W_in"] = Stack(1, de, d);
        sd[b + "mlp.experts.W_out"] = Stack(2, d, de);
    }
}
