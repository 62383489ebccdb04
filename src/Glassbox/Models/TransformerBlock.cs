using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// One pre-norm block: <c>mid = pre + attn(ln1(pre))</c>, <c>post = mid + mlp(ln2(mid))</c>;
/// or, with parallel attention and MLP (GPT-NeoX), <c>post = pre + attn(ln1(pre)) + mlp(ln2(pre))</c>.
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

        HookResidPre = hooks.Create(p + "hook_resid_pre", d, layer);
        int H = cfg.NHeads, Hkv = cfg.NKvHeads, dh = cfg.DHead, dm = cfg.DModel;
        HookAttnIn = hooks.Create(p + "hook_attn_in", $"[batch, pos, head={H}, d_model={dm}]", layer, optIn: true);
        HookQInput = hooks.Create(p + "hook_q_input", $"[batch, pos, head={H}, d_model={dm}]", layer, optIn: true);
        HookKInput = hooks.Create(p + "hook_k_input", $"[batch, pos, kv_head={Hkv}, d_model={dm}]", layer, optIn: true);
        HookVInput = hooks.Create(p + "hook_v_input", $"[batch, pos, kv_head={Hkv}, d_model={dm}]", layer, optIn: true);
        Ln1 = NewNorm(cfg, "ln1", sd, hooks, layer, place);
        Attn = new Attention(cfg, rotary,
            wq: place(sd[p + "attn.W_Q"].permute(1, 0, 2).reshape(dm, H * dh))!, bq: place(sd.TryGet(p + "attn.b_Q")?.reshape(H * dh)),
            wk: place(sd[p + "attn.W_K"].permute(1, 0, 2).reshape(dm, Hkv * dh))!, bk: place(sd.TryGet(p + "attn.b_K")?.reshape(Hkv * dh)),
            wv: place(sd[p + "attn.W_V"].permute(1, 0, 2).reshape(dm, Hkv * dh))!, bv: place(sd.TryGet(p + "attn.b_V")?.reshape(Hkv * dh)),
            wo: place(sd[p + "attn.W_O"].reshape(H * dh, dm))!, bo: B("attn.b_O"), hooks, layer);
        HookAttnOut = hooks.Create(p + "hook_attn_out", d, layer);
        if (!cfg.AttnOnly)
        {
            if (!parallel) HookResidMid = hooks.Create(p + "hook_resid_mid", d, layer);
            HookMlpIn = hooks.Create(p + "hook_mlp_in", d, layer);
            Ln2 = NewNorm(cfg, "ln2", sd, hooks, layer, place);
            Mlp = new Mlp(cfg, W("mlp.W_in"), B("mlp.b_in"), cfg.GatedMlp ? W("mlp.W_gate") : null, B("mlp.b_gate"),
                W("mlp.W_out"), B("mlp.b_out"), hooks, layer);
            HookMlpOut = hooks.Create(p + "hook_mlp_out", d, layer);
        }
        HookResidPost = hooks.Create(p + "hook_resid_post", d, layer);
    }

    /// <summary>A norm named <c>ln1</c>, <c>ln2</c> (in block <paramref name="layer"/>) or <c>ln_final</c> (layer null).</summary>
    internal static Norm NewNorm(ModelConfig cfg, string name, StateDict sd, HookRegistry hooks, int? layer, Func<Tensor?, Tensor?> place)
    {
        string p = layer is null ? name + "." : $"blocks.{layer}.{name}.";
        var scale = hooks.Create(p + "hook_scale", "[batch, pos, 1]", layer);
        var normalized = hooks.Create(p + "hook_normalized", $"[batch, pos, d_model={cfg.DModel}]", layer);
        return new Norm(cfg.Norm, cfg.NormEps, place(sd[p + "w"])!, place(sd.TryGet(p + "b")), scale, normalized);
    }

    public int Layer { get; }
    public Norm Ln1 { get; }
    public Attention Attn { get; }
    /// <summary>Null in attention-only models.</summary>
    public Norm? Ln2 { get; }
    /// <summary>Null in attention-only models.</summary>
    public Mlp? Mlp { get; }

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
        var attnOut = HookAttnOut.Run(RunAttention(pre, start, cache));
        if (Mlp is null) return HookResidPost.Run(pre + attnOut);
        if (parallel)
        {
            var parallelMlpOut = HookMlpOut!.Run(Mlp.Forward(Ln2!.Forward(HookMlpIn!.Run(pre))));
            return HookResidPost.Run(pre + attnOut + parallelMlpOut);
        }
        var mid = HookResidMid!.Run(pre + attnOut);
        var mlpOut = HookMlpOut!.Run(Mlp.Forward(Ln2!.Forward(HookMlpIn!.Run(mid))));
        return HookResidPost.Run(mid + mlpOut);
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
