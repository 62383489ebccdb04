using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// One forward pass, decomposed by source token: the attention block's output at query i splits exactly into
/// per-head, per-source vectors <c>A^h_ij (x̂_j W_V^h + b_V^h) W_O^h</c> (plus b_O, since attention rows sum to 1),
/// and a pre-norm block's residual <c>x^mid_i = Σ_j T_i(x_j) + b_O</c> with <c>T_i(x_j) = Σ_h A^h_ij v_j^h W_O^h + δ_ij x_i</c>.
/// Norms are linearised by freezing their scale σ (<c>hook_scale</c>): <c>N(Σ_c z_c) = Σ_c (z_c P) ⊙ γ / σ + β</c>.
/// Shared by norm-based attribution (Kobayashi et al. 2020/2021), GlobEnc, ALTI, ALTI-Logit and information flow routes.
/// All tensors are for batch row 0, in the model's dtype and on its device.
/// </summary>
public sealed class AttentionDecomposition : IDisposable
{
    const long ChunkElements = 1L << 24;
    static readonly string[] Points =
        ["hook_resid_pre", "attn.hook_v", "attn.hook_pattern", "hook_attn_out", "ln2.hook_scale", "hook_mlp_out", "hook_resid_post"];

    readonly ActivationCache cache;

    AttentionDecomposition(HookedTransformer model, ActivationCache cache, Tensor logits)
    {
        Model = model;
        this.cache = cache;
        Logits = logits;
    }

    /// <summary>Runs <paramref name="tokens"/> once and keeps what the decomposition reads.</summary>
    public static AttentionDecomposition Run(HookedTransformer model, long[] tokens)
    {
        using var noGrad = no_grad();
        var wanted = model.Hooks.Match(name => name == "ln_final.hook_scale" || Points.Any(p => name.StartsWith("blocks.") && name.EndsWith("." + p)));
        var (logits, cache) = model.RunWithCache(tensor(tokens, device: model.W_E.device).unsqueeze(0), wanted);
        return new AttentionDecomposition(model, cache, logits.DetachFromDisposeScope());
    }

    public HookedTransformer Model { get; }
    /// <summary>[1, pos, d_vocab]</summary>
    public Tensor Logits { get; }
    public int Layers => Model.Config.NLayers;
    public long Positions => Logits.shape[1];

    Tensor Row0(string name) => cache[name][0];

    /// <summary>x^l, [pos, d_model]</summary>
    public Tensor ResidPre(int layer) => Row0($"blocks.{layer}.hook_resid_pre");
    public Tensor ResidPost(int layer) => Row0($"blocks.{layer}.hook_resid_post");
    public Tensor AttnOut(int layer) => Row0($"blocks.{layer}.hook_attn_out");
    /// <summary>x^mid = x^l + attention output (also for parallel blocks, where the MLP reads x^l instead).</summary>
    public Tensor ResidMid(int layer) => ResidPre(layer) + AttnOut(layer);
    public Tensor? MlpOut(int layer) => Model.Blocks[layer].Mlp is null ? null : Row0($"blocks.{layer}.hook_mlp_out");
    /// <summary>[head, query, key]</summary>
    public Tensor Pattern(int layer) => Row0($"blocks.{layer}.attn.hook_pattern");
    /// <summary>ln2's σ per position, [pos, 1]; null in attention-only models.</summary>
    public Tensor? Ln2Scale(int layer) => Model.Blocks[layer].Ln2 is null ? null : Row0($"blocks.{layer}.ln2.hook_scale");
    public Tensor FinalScale => Row0("ln_final.hook_scale");

    /// <summary>What each source writes through each head before weighting by attention, <c>(x̂_j W_V^h + b_V^h) W_O^h</c>: [key, head, d_model].</summary>
    public Tensor ValueOutputs(int layer)
    {
        var cfg = Model.Config;
        var v = Row0($"blocks.{layer}.attn.hook_v");
        if (cfg.NKvHeads != cfg.NHeads) v = v.repeat_interleave(cfg.NHeads / cfg.NKvHeads, dim: 1);
        return einsum("khe,hed->khd", v, Model.Blocks[layer].Attn.W_O);
    }

    /// <summary>Queries per chunk so that a [query, key, (head,) d_model] tensor stays near 16 M elements.</summary>
    public long QueryChunk(bool perHead) =>
        Math.Max(1, ChunkElements / (Positions * Model.Config.DModel * (perHead ? Model.Config.NHeads : 1)));

    /// <summary>Per-head, per-source terms of queries <c>[start, start + count)</c>: [query, key, head, d_model].</summary>
    public Tensor HeadTerms(int layer, long start, long count) =>
        einsum("hqk,khd->qkhd", Pattern(layer).narrow(1, start, count), ValueOutputs(layer));

    /// <summary>The attention output split by source (summed over heads, b_O excluded): [query, key, d_model].</summary>
    public Tensor Terms(int layer, long start, long count) =>
        einsum("hqk,khd->qkd", Pattern(layer).narrow(1, start, count), ValueOutputs(layer));

    /// <summary><c>T_i(x_j)</c>: the source terms with the residual x^l_i added on the diagonal, [query, key, d_model].</summary>
    public Tensor ResidualTerms(int layer, long start, long count)
    {
        var terms = Terms(layer, start, count);
        var diagonal = eye(count, Positions, dtype: ScalarType.Bool, device: terms.device);
        if (start > 0) diagonal = diagonal.roll(start, 1);
        return terms + diagonal.unsqueeze(-1).to(terms.dtype) * ResidPre(layer).narrow(0, start, count).unsqueeze(1);
    }

    /// <summary>A [query, key] matrix built a chunk of queries at a time from <paramref name="rows"/>(start, count) → [count, key].</summary>
    public Tensor ByQueryChunks(bool perHead, Func<long, long, Tensor> rows)
    {
        long chunk = QueryChunk(perHead);
        var parts = new List<Tensor>();
        for (long start = 0; start < Positions; start += chunk)
        {
            using var scope = NewDisposeScope();
            parts.Add(rows(start, Math.Min(chunk, Positions - start)).MoveToOuterDisposeScope());
        }
        return cat(parts, 0);
    }

    /// <summary>
    /// A norm's frozen-σ linear part applied to additive parts z [..., d_model] with σ broadcast against z: <c>(z P) ⊙ γ / σ</c> (LayerNorm) or <c>z ⊙ γ / σ</c> (RMSNorm); β is the constant term.
    /// </summary>
    public Tensor Linearise(Tensor z, Norm norm, Tensor scale)
    {
        if (Model.Config.Norm == NormKind.LayerNorm) z = z - z.mean([-1], keepdim: true);
        return z * norm.W / scale;
    }

    /// <summary>
    /// The direction whose dot product with a residual-stream part at <paramref name="position"/> gives its direct
    /// contribution to <c>logit(token) − logit(foil)</c> under the frozen final norm: <c>P(γ ⊙ u)/σ_t</c>, [d_model].
    /// </summary>
    public Tensor LogitDirection(int position, long token, long? foil)
    {
        var u = Model.W_U.select(1, token);
        if (foil is { } o) u = u - Model.W_U.select(1, o);
        var direction = u * Model.LnFinal.W / FinalScale[position];
        return Model.Config.Norm == NormKind.LayerNorm ? direction - direction.mean() : direction;
    }

    /// <summary>The constant part of that logit: <c>β·u + b_U</c> (zero for RMSNorm without an unembedding bias).</summary>
    public double LogitConstant(long token, long? foil)
    {
        double Of(long w) => (Model.LnFinal.B is { } b ? (b * Model.W_U.select(1, w)).sum().to(ScalarType.Float64).item<double>() : 0)
                             + (Model.b_U is { } bu ? bu[w].to(ScalarType.Float64).item<double>() : 0);
        return Of(token) - (foil is { } o ? Of(o) : 0);
    }

    public void Dispose()
    {
        cache.Dispose();
        Logits.Dispose();
    }
}
