using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Causal multi-head attention with grouped-query heads: <c>softmax(cap(s · q kᵀ) + mask) v W_O</c>, s = 1/√d_head unless
/// the config sets it, cap the optional soft-cap c·tanh(x/c), the mask causal and, on sliding-window layers, limited to
/// the last W positions. Queries and keys may be RMS-normalised before rotary (q/k norm). Weights are held fused for
/// speed (W_Q as [d_model, head·d_head]); <see cref="W_Q"/> and friends give TransformerLens-shaped views.
/// </summary>
public sealed class Attention
{
    readonly ModelConfig cfg;
    readonly Rotary? rotary;
    readonly double scale;

    internal Attention(ModelConfig cfg, int layer, Rotary? rotary, Tensor wq, Tensor? bq, Tensor wk, Tensor? bk, Tensor wv, Tensor? bv,
        Tensor wo, Tensor? bo, Norm? qNorm, Norm? kNorm, HookRegistry hooks)
    {
        this.cfg = cfg;
        this.rotary = rotary;
        scale = cfg.AttnScale ?? 1.0 / Math.Sqrt(cfg.DHead);
        Window = cfg.WindowOf(layer);
        (Wq, Bq, Wk, Bk, Wv, Bv, Wo, Bo, QNorm, KNorm) = (wq, bq, wk, bk, wv, bv, wo, bo, qNorm, kNorm);
        string p = $"blocks.{layer}.attn.", h = $"head={cfg.NHeads}", kv = $"kv_head={cfg.NKvHeads}", dh = $"d_head={cfg.DHead}";
        HookQ = hooks.Create(p + "hook_q", $"[batch, pos, {h}, {dh}]", layer);
        HookK = hooks.Create(p + "hook_k", $"[batch, pos, {kv}, {dh}]", layer);
        HookV = hooks.Create(p + "hook_v", $"[batch, pos, {kv}, {dh}]", layer);
        if (rotary is not null)
        {
            HookRotQ = hooks.Create(p + "hook_rot_q", $"[batch, pos, {h}, {dh}]", layer);
            HookRotK = hooks.Create(p + "hook_rot_k", $"[batch, pos, {kv}, {dh}]", layer);
        }
        HookAttnScores = hooks.Create(p + "hook_attn_scores", $"[batch, {h}, query_pos, key_pos]", layer);
        HookPattern = hooks.Create(p + "hook_pattern", $"[batch, {h}, query_pos, key_pos]", layer);
        HookZ = hooks.Create(p + "hook_z", $"[batch, pos, {h}, {dh}]", layer);
        HookResult = hooks.Create(p + "hook_result", $"[batch, pos, {h}, d_model={cfg.DModel}]", layer, optIn: true);
    }

    internal Tensor Wq { get; }
    internal Tensor? Bq { get; }
    internal Tensor Wk { get; }
    internal Tensor? Bk { get; }
    internal Tensor Wv { get; }
    internal Tensor? Bv { get; }
    internal Tensor Wo { get; }
    internal Tensor? Bo { get; }
    /// <summary>q/k RMSNorm (Qwen3, Gemma 3: per head; OLMo 2: over all heads), null without.</summary>
    public Norm? QNorm { get; }
    public Norm? KNorm { get; }
    /// <summary>The sliding window of this layer, null for full causal attention.</summary>
    public int? Window { get; }

    /// <summary>[head, d_model, d_head]</summary>
    public Tensor W_Q => Wq.view(cfg.DModel, cfg.NHeads, cfg.DHead).permute(1, 0, 2);
    /// <summary>[kv_head, d_model, d_head]</summary>
    public Tensor W_K => Wk.view(cfg.DModel, cfg.NKvHeads, cfg.DHead).permute(1, 0, 2);
    /// <summary>[kv_head, d_model, d_head]</summary>
    public Tensor W_V => Wv.view(cfg.DModel, cfg.NKvHeads, cfg.DHead).permute(1, 0, 2);
    /// <summary>[head, d_head, d_model]</summary>
    public Tensor W_O => Wo.view(cfg.NHeads, cfg.DHead, cfg.DModel);
    public Tensor? b_Q => Bq?.view(cfg.NHeads, cfg.DHead);
    public Tensor? b_K => Bk?.view(cfg.NKvHeads, cfg.DHead);
    public Tensor? b_V => Bv?.view(cfg.NKvHeads, cfg.DHead);
    public Tensor? b_O => Bo;

    public HookPoint HookQ { get; }
    public HookPoint HookK { get; }
    public HookPoint HookV { get; }
    public HookPoint? HookRotQ { get; }
    public HookPoint? HookRotK { get; }
    public HookPoint HookAttnScores { get; }
    public HookPoint HookPattern { get; }
    public HookPoint HookZ { get; }
    public HookPoint HookResult { get; }

    internal int Heads => cfg.NHeads;
    internal int KvHeads => cfg.NKvHeads;

    /// <summary>
    /// xq, xk, xv: the normalised residual each projection reads, [batch, pos, d_model] shared, or
    /// [batch, pos, head, d_model] per head (split inputs; xk and xv have a kv_head axis, or a head axis when every query
    /// head reads its own, which runs grouped-query attention ungrouped); start: absolute position of the first row.
    /// </summary>
    public Tensor Forward(Tensor xq, Tensor xk, Tensor xv, long start, KvCache? cache, int layer)
    {
        long b = xq.shape[0], p = xq.shape[1];
        int H = cfg.NHeads, Hkv = cfg.NKvHeads, dh = cfg.DHead;

        var q = HookQ.Run(Clipped(Project(xq, Wq, Bq, H)));
        var k = HookK.Run(Clipped(Project(xk, Wk, Bk, Hkv)));
        var v = HookV.Run(Clipped(Project(xv, Wv, Bv, Hkv)));
        if (QNorm is not null) q = QkNormed(QNorm, q);
        if (KNorm is not null) k = QkNormed(KNorm, k);
        if (rotary is not null)
        {
            q = HookRotQ!.Run(rotary.Apply(q, start));
            k = HookRotK!.Run(rotary.Apply(k, start));
        }
        if (cache is not null)
        {
            if (k.shape[2] != Hkv)
                throw new GlassboxException($"blocks.{layer}.hook_attn_in gives each of the {H} query heads its own keys and values, which a KV cache of {Hkv} kv heads cannot hold; run it without a cache.");
            (k, v) = cache.Append(layer, k, v);
        }
        long keys = k.shape[1];

        // [batch, head, pos, d_head]; a kv head serves H/Hkv consecutive query heads (unless they were projected per query head).
        var qh = q.transpose(1, 2);
        var kh = k.transpose(1, 2);
        var vh = v.transpose(1, 2);
        if (kh.shape[1] != H)
        {
            kh = kh.repeat_interleave(H / Hkv, dim: 1);
            vh = vh.repeat_interleave(H / Hkv, dim: 1);
        }
        // Scaling q and masking in place keep one [batch, head, query, key] tensor alive instead of three:
        // at long contexts these dominate a forward pass's memory.
        var scores = matmul(qh * scale, kh.transpose(2, 3));
        if (cfg.AttnSoftcap is { } cap) scores = (scores / cap).tanh_() * cap;
        // Query i sits at absolute position start + i and may see keys 0 .. start + i (and, in a window W, none before start + i − W + 1).
        using (var future = ones(p, keys, dtype: ScalarType.Bool, device: xq.device).triu(keys - p + 1))
            scores.masked_fill_(future, double.NegativeInfinity);
        if (Window is { } w && keys > w)
            using (var past = ones(p, keys, dtype: ScalarType.Bool, device: xq.device).tril(keys - p - w))
                scores.masked_fill_(past, double.NegativeInfinity);
        scores = HookAttnScores.Run(scores);
        var pattern = HookPattern.Run(scores.softmax(-1));
        // Unhooked, no one else holds these handles (autograd keeps its own references), so free them now.
        if (!HookAttnScores.HasHooks) scores.Dispose();
        var z = HookZ.Run(matmul(pattern, vh).transpose(1, 2));
        if (!HookPattern.HasHooks) pattern.Dispose();

        if (HookResult.HasHooks)
        {
            var result = HookResult.Run(einsum("bphd,hdm->bphm", z, W_O));
            var summed = result.sum(2);
            return Bo is null ? summed : summed + Bo;
        }
        return Linear(z.reshape(b, p, H * dh), Wo, Bo);
    }

    /// <summary>
    /// [batch, pos, heads, d_head] from a shared input (one fused matmul) or from per-head inputs. Per-query-head inputs to a
    /// grouped key or value projection (<c>hook_attn_in</c>) are projected ungrouped: each query head with its group's weights.
    /// </summary>
    Tensor Project(Tensor x, Tensor w, Tensor? bias, int heads)
    {
        long b = x.shape[0], p = x.shape[1];
        if (x.dim() == 3) return Linear(x, w, bias).view(b, p, heads, cfg.DHead);
        var perHead = w.view(cfg.DModel, heads, cfg.DHead);
        var perHeadBias = bias?.view(heads, cfg.DHead);
        long group = x.shape[2] / heads;
        if (group > 1)
        {
            perHead = perHead.repeat_interleave(group, dim: 1);
            perHeadBias = perHeadBias?.repeat_interleave(group, dim: 0);
        }
        var y = einsum("bphd,dhe->bphe", x, perHead);
        return perHeadBias is null ? y : y + perHeadBias;
    }

    /// <summary>RMS-normalises q or k [batch, pos, heads, d_head] per head, or jointly over every head (OLMo 2).</summary>
    Tensor QkNormed(Norm norm, Tensor x)
    {
        if (cfg.QkNorm == QkNormKind.PerHead) return norm.Forward(x);
        if (x.shape[2] * x.shape[3] != norm.W.shape[0])
            throw new GlassboxException($"{norm.HookNormalized.Name} normalises all {norm.W.shape[0] / cfg.DHead} heads' keys together, so keys projected per query head (hook_attn_in on a grouped-query model) have no defined norm.");
        return norm.Forward(x.flatten(2)).view(x.shape);
    }

    Tensor Clipped(Tensor x) => cfg.QkvClip is { } c ? x.clamp(-c, c) : x;

    /// <summary>x W + b with row vectors and input-major weights.</summary>
    internal static Tensor Linear(Tensor x, Tensor w, Tensor? bias) => bias is null ? matmul(x, w) : matmul(x, w) + bias;
}
