using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// One block: <c>mid = pre + attn(ln1(pre))</c>, <c>post = mid + mlp(ln2(mid))</c>; or, with parallel attention and MLP
/// (GPT-NeoX, Phi, Falcon), <c>post = pre + attn(ln1(pre)) + mlp(ln2(pre))</c>. With post-norms (Gemma 2/3, OLMo 2) each
/// write is normalised before it joins the residual: <c>attn_out = ln1_post(attn(…))</c>, <c>mlp_out = ln2_post(mlp(…))</c>;
/// without pre-norms (OLMo 2) ln1 and ln2 are the identity. The MLP is dense or a sparse mixture of experts.
/// </summary>
public sealed class TransformerBlock
{
    readonly bool parallel;

    /// <summary>Builds the block from TransformerLens-shaped weights, creating its hook points in forward order.</summary>
    internal TransformerBlock(ModelConfig cfg, int layer, StateDict sd, HookRegistry hooks, Rotary? rotary, Func<Tensor?, Tensor?> place)
    {
        parallel = cfg.ParallelAttnMlp;
        Layer = layer;
        string p = $"blocks.{layer}.", d = $"[batch, pos, d_model={cfg.DModel}]";
        Tensor W(string n) => place(sd[p + n])!;
        Tensor? B(string n) => place(sd.TryGet(p + n));
        var preNorm = cfg.PreNorms ? cfg.Norm : NormKind.Identity;

        HookResidPre = hooks.Create(p + "hook_resid_pre", d, layer);
        int H = cfg.NHeads, Hkv = cfg.NKvHeads, dh = cfg.DHead, dm = cfg.DModel;
        HookAttnIn = hooks.Create(p + "hook_attn_in", $"[batch, pos, head={H}, d_model={dm}]", layer, optIn: true);
        HookQInput = hooks.Create(p + "hook_q_input", $"[batch, pos, head={H}, d_model={dm}]", layer, optIn: true);
        HookKInput = hooks.Create(p + "hook_k_input", $"[batch, pos, kv_head={Hkv}, d_model={dm}]", layer, optIn: true);
        HookVInput = hooks.Create(p + "hook_v_input", $"[batch, pos, kv_head={Hkv}, d_model={dm}]", layer, optIn: true);
        Ln1 = NewNorm(cfg, "ln1", sd, hooks, layer, place, preNorm);
        Norm? QkNorm(string n, int heads) => cfg.QkNorm switch
        {
            QkNormKind.PerHead => NewNorm(cfg, "attn." + n, sd, hooks, layer, place, NormKind.RmsNorm, $"[batch, pos, {(n == "q_norm" ? "head" : "kv_head")}={heads}, d_head={dh}]"),
            QkNormKind.Joint => NewNorm(cfg, "attn." + n, sd, hooks, layer, place, NormKind.RmsNorm, $"[batch, pos, {(n == "q_norm" ? "head" : "kv_head")}·d_head={heads * dh}]"),
            _ => null,
        };
        Attn = new Attention(cfg, layer, rotary,
            wq: place(sd[p + "attn.W_Q"].permute(1, 0, 2).reshape(dm, H * dh))!, bq: place(sd.TryGet(p + "attn.b_Q")?.reshape(H * dh)),
            wk: place(sd[p + "attn.W_K"].permute(1, 0, 2).reshape(dm, Hkv * dh))!, bk: place(sd.TryGet(p + "attn.b_K")?.reshape(Hkv * dh)),
            wv: place(sd[p + "attn.W_V"].permute(1, 0, 2).reshape(dm, Hkv * dh))!, bv: place(sd.TryGet(p + "attn.b_V")?.reshape(Hkv * dh)),
            wo: place(sd[p + "attn.W_O"].reshape(H * dh, dm))!, bo: B("attn.b_O"), QkNorm("q_norm", H), QkNorm("k_norm", Hkv), hooks);
        if (cfg.PostNorms) Ln1Post = NewNorm(cfg, "ln1_post", sd, hooks, layer, place);
        HookAttnOut = hooks.Create(p + "hook_attn_out", d, layer);
        if (!cfg.AttnOnly)
        {
            if (!parallel) HookResidMid = hooks.Create(p + "hook_resid_mid", d, layer);
            HookMlpIn = hooks.Create(p + "hook_mlp_in", d, layer);
            Ln2 = NewNorm(cfg, "ln2", sd, hooks, layer, place, preNorm);
            if (cfg.IsMoe(layer))
                Moe = new SparseMoe(cfg, W("mlp.W_router"), W("mlp.experts.W_gate"), W("mlp.experts.W_in"), W("mlp.experts.W_out"), hooks, layer);
            else
                Mlp = new Mlp(cfg, W("mlp.W_in"), B("mlp.b_in"), cfg.GatedMlp ? W("mlp.W_gate") : null, B("mlp.b_gate"),
                    W("mlp.W_out"), B("mlp.b_out"), hooks, layer);
            if (cfg.PostNorms) Ln2Post = NewNorm(cfg, "ln2_post", sd, hooks, layer, place);
            HookMlpOut = hooks.Create(p + "hook_mlp_out", d, layer);
        }
        HookResidPost = hooks.Create(p + "hook_resid_post", d, layer);
    }

    /// <summary>
    /// A norm named <c>ln1</c>, <c>ln2</c>, <c>ln1_post</c>, <c>attn.q_norm</c>… (in block <paramref name="layer"/>) or
    /// <c>ln_final</c> (layer null), of the config's kind unless <paramref name="kind"/> says otherwise, over the last axis of
    /// <paramref name="shape"/> (default d_model). An identity norm's weight is ones when the weights have none.
    /// </summary>
    internal static Norm NewNorm(ModelConfig cfg, string name, StateDict sd, HookRegistry hooks, int? layer, Func<Tensor?, Tensor?> place,
        NormKind? kind = null, string? shape = null)
    {
        string p = layer is null ? name + "." : $"blocks.{layer}.{name}.";
        shape ??= $"[batch, pos, d_model={cfg.DModel}]";
        var k = kind ?? cfg.Norm;
        var scale = k == NormKind.Identity ? null : hooks.Create(p + "hook_scale", shape[..shape.LastIndexOf(", ")] + ", 1]", layer);
        var normalized = hooks.Create(p + "hook_normalized", shape, layer);
        var w = k == NormKind.Identity && !sd.Contains(p + "w") ? place(ones(cfg.DModel)) : place(sd[p + "w"]);
        return new Norm(k, cfg.NormEps, w!, place(sd.TryGet(p + "b")), scale, normalized);
    }

    public int Layer { get; }
    public Norm Ln1 { get; }
    public Attention Attn { get; }
    /// <summary>Null in attention-only models.</summary>
    public Norm? Ln2 { get; }
    /// <summary>The dense MLP; null in attention-only models and in MoE layers.</summary>
    public Mlp? Mlp { get; }
    /// <summary>The sparse mixture of experts of an MoE layer, else null.</summary>
    public SparseMoe? Moe { get; }
    /// <summary>Gemma 2/3, OLMo 2: the norms of the attention and MLP outputs (TransformerLens's ln1_post, ln2_post).</summary>
    public Norm? Ln1Post { get; }
    public Norm? Ln2Post { get; }
    public bool HasFeedForward => Mlp is not null || Moe is not null;

    public HookPoint HookResidPre { get; }
    /// <summary>
    /// Opt-in per-head copy of the residual that all of a head's query, key and value read (TransformerLens's
    /// <c>use_attn_in</c>), so that one head's whole input can be patched at once; ln1's hooks then see the copies,
    /// [batch, pos, head, ...]. In a grouped-query model each query head then projects its own keys and values with its
    /// group's weights (attention runs ungrouped), so hook_k, hook_v and hook_rot_k have a head axis instead of kv_head.
    /// It composes with the split inputs below: they start from the hooked copies (with grouped queries, hook_k_input and
    /// hook_v_input then have a head axis too).
    /// </summary>
    public HookPoint HookAttnIn { get; }
    /// <summary>
    /// Opt-in per-head copies of the residual that each head's query, key and value read (TransformerLens's
    /// <c>use_split_qkv_input</c>): hooking any of them runs ln1 on each copy, so an edge into one head's
    /// query can be patched without touching its key, its value or the other heads. ln1's hooks then see
    /// the copies stacked, [batch, pos, head + 2·kv_head, ...] (q, then k, then v).
    /// </summary>
    public HookPoint HookQInput { get; }
    public HookPoint HookKInput { get; }
    public HookPoint HookVInput { get; }
    public HookPoint HookAttnOut { get; }
    public HookPoint? HookResidMid { get; }
    /// <summary>The MLP's input before ln2; replacing it changes the MLP's input only, not the residual stream.</summary>
    public HookPoint? HookMlpIn { get; }
    public HookPoint? HookMlpOut { get; }
    public HookPoint HookResidPost { get; }

    public Tensor Forward(Tensor x, long start, KvCache? cache)
    {
        var pre = HookResidPre.Run(x);
        var attn = RunAttention(pre, start, cache);
        var attnOut = HookAttnOut.Run(Ln1Post?.Forward(attn) ?? attn);
        if (!HasFeedForward) return HookResidPost.Run(pre + attnOut);
        if (parallel) return HookResidPost.Run(pre + attnOut + FeedForward(pre));
        var mid = HookResidMid!.Run(pre + attnOut);
        return HookResidPost.Run(mid + FeedForward(mid));
    }

    /// <summary>mlp_out from the residual the MLP reads: ln2, the MLP or experts, then ln2_post where the model has it.</summary>
    Tensor FeedForward(Tensor resid)
    {
        var normalized = Ln2!.Forward(HookMlpIn!.Run(resid));
        var y = Moe?.Forward(normalized) ?? Mlp!.Forward(normalized);
        return HookMlpOut!.Run(Ln2Post?.Forward(y) ?? y);
    }

    Tensor RunAttention(Tensor pre, long start, KvCache? cache)
    {
        bool split = HookQInput.HasHooks || HookKInput.HasHooks || HookVInput.HasHooks;
        if (!HookAttnIn.HasHooks && !split)
        {
            var normalized = Ln1.Forward(pre);
            return Attn.Forward(normalized, normalized, normalized, start, cache, Layer);
        }
        static Tensor PerHead(Tensor x, long heads) => x.unsqueeze(2).expand(x.shape[0], x.shape[1], heads, x.shape[2]);
        if (!HookAttnIn.HasHooks) return SplitAttention(PerHead(pre, Attn.Heads), PerHead(pre, Attn.KvHeads), PerHead(pre, Attn.KvHeads), start, cache);
        var attnIn = HookAttnIn.Run(PerHead(pre, Attn.Heads));
        if (split) return SplitAttention(attnIn, attnIn, attnIn, start, cache);
        var perHead = Ln1.Forward(attnIn);
        return Attn.Forward(perHead, perHead, perHead, start, cache, Layer);
    }

    Tensor SplitAttention(Tensor q, Tensor k, Tensor v, long start, KvCache? cache)
    {
        q = HookQInput.Run(q);
        k = HookKInput.Run(k);
        v = HookVInput.Run(v);
        // One ln1 call over the stacked inputs, so its hooks still run once per forward pass.
        var split = Ln1.Forward(cat([q, k, v], 2)).split([q.shape[2], k.shape[2], v.shape[2]], 2);
        return Attn.Forward(split[0], split[1], split[2], start, cache, Layer);
    }
}
