using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>Which of TransformerLens's weight-processing steps to apply (all by default).</summary>
public sealed record ProcessingOptions
{
    public bool FoldNorms { get; init; } = true;
    /// <summary>LayerNorm models only (every reader subtracts the mean first); ignored for RMSNorm.</summary>
    public bool CenterWriters { get; init; } = true;
    public bool CenterUnembed { get; init; } = true;
    public bool FoldValueBiases { get; init; } = true;
}

/// <summary>
/// TransformerLens's weight processing (Elhage et al. 2021; Nanda, TransformerLens), each step exact:
/// fold norm weights into the readers (<c>W' = diag(γ) W, b' = b + β W</c>), centre the weights that
/// write to the residual stream (<c>W ← W P</c>, LayerNorm only), centre the unembedding, and fold
/// value biases into the output bias (<c>b_O ← b_O + Σ_h b_V^h W_O^h</c>, since attention rows sum to 1).
/// Log-probabilities are unchanged; raw logits shift by a constant per position when W_U is centred.
/// </summary>
public static class WeightProcessing
{
    /// <summary>A new model with processed weights (computed in float64, then cast to the model's dtype).</summary>
    public static HookedTransformer Process(HookedTransformer model, ProcessingOptions? options = null)
    {
        using var sd = model.ExportStateDict();
        using var exact = sd.Clone(ScalarType.Float64);
        Apply(exact, model.Config, options ?? new ProcessingOptions());
        return new HookedTransformer(model.Config, exact, model.Device, model.DType);
    }

    /// <summary>Processes a state dict in place.</summary>
    public static void Apply(StateDict sd, ModelConfig cfg, ProcessingOptions o)
    {
        using var scope = NewDisposeScope();
        if (o.FoldNorms) FoldNorms(sd, cfg);
        if (o.CenterWriters && cfg.Norm == NormKind.LayerNorm) CenterWriters(sd, cfg);
        if (o.CenterUnembed) CenterUnembed(sd);
        if (o.FoldValueBiases) FoldValueBiases(sd, cfg);
    }

    public static void FoldNorms(StateDict sd, ModelConfig cfg)
    {
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string b = $"blocks.{l}.";
            FoldInto(sd, b + "ln1", (b + "attn.W_Q", b + "attn.b_Q"), (b + "attn.W_K", b + "attn.b_K"), (b + "attn.W_V", b + "attn.b_V"));
            if (cfg.AttnOnly) continue;
            var mlpReaders = cfg.GatedMlp
                ? new[] { (b + "mlp.W_in", b + "mlp.b_in"), (b + "mlp.W_gate", b + "mlp.b_gate") }
                : new[] { (b + "mlp.W_in", b + "mlp.b_in") };
            FoldInto(sd, b + "ln2", mlpReaders);
        }
        FoldInto(sd, "ln_final", ("unembed.W_U", "unembed.b_U"));
    }

    /// <summary>Folds norm <paramref name="norm"/>'s γ and β into each reader W [..., d_model, out] and bias [..., out].</summary>
    static void FoldInto(StateDict sd, string norm, params (string W, string B)[] readers)
    {
        var gamma = sd[norm + ".w"];
        var beta = sd.TryGet(norm + ".b");
        foreach (var (wName, bName) in readers)
        {
            var w = sd[wName]; // [..., d_model, out]
            if (beta is not null)
            {
                var shift = matmul(beta, w); // [..., out]
                var bias = sd.TryGet(bName);
                sd[bName] = bias is null ? shift : bias + shift;
            }
            sd[wName] = w * gamma.unsqueeze(-1);
        }
        sd[norm + ".w"] = ones_like(gamma);
        if (beta is not null) sd.Remove(norm + ".b");
    }

    public static void CenterWriters(StateDict sd, ModelConfig cfg) => MapWriters(sd, cfg, t => t - t.mean([-1], keepdim: true));

    /// <summary>
    /// Replaces every weight and bias that writes to the residual stream (W_E, W_pos, each W_O and b_O, each W_out and b_out;
    /// every row a write of d_model) by <paramref name="map"/> of it, e.g. a projection applied to every write.
    /// </summary>
    public static void MapWriters(StateDict sd, ModelConfig cfg, Func<Tensor, Tensor> map)
    {
        void Map(string name) { if (sd.TryGet(name) is { } t) sd[name] = map(t); }
        Map("embed.W_E");
        Map("pos_embed.W_pos");
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string b = $"blocks.{l}.";
            Map(b + "attn.W_O");
            Map(b + "attn.b_O");
            if (cfg.AttnOnly) continue;
            Map(b + "mlp.W_out");
            Map(b + "mlp.b_out");
        }
    }

    public static void CenterUnembed(StateDict sd)
    {
        var wU = sd["unembed.W_U"];
        sd["unembed.W_U"] = wU - wU.mean(new long[] { -1 }, keepdim: true);
        if (sd.TryGet("unembed.b_U") is { } bU) sd["unembed.b_U"] = bU - bU.mean();
    }

    public static void FoldValueBiases(StateDict sd, ModelConfig cfg)
    {
        for (int l = 0; l < cfg.NLayers; l++)
        {
            string b = $"blocks.{l}.attn.";
            if (sd.TryGet(b + "b_V") is not { } bV) continue;
            // Query head h reads kv head h / (H / H_kv).
            var perHead = bV.repeat_interleave(cfg.NHeads / cfg.NKvHeads, dim: 0); // [H, d_head]
            var folded = einsum("hd,hdm->m", perHead, sd[b + "W_O"]);
            var bO = sd.TryGet(b + "b_O");
            sd[b + "b_O"] = bO is null ? folded : bO + folded;
            sd.Remove(b + "b_V");
        }
    }
}
