using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// A sparse mixture-of-experts MLP (Shazeer et al. 2017; Mixtral, Jiang et al. 2024): router logits <c>r = x W_router</c>,
/// <c>p = softmax(r)</c>, keep the top k, optionally renormalised to sum 1, and
/// <c>out = Σ_{e ∈ top-k} p_e · W_out^e (act(x W_gate^e) ⊙ x W_in^e)</c>. Each expert runs only on the tokens routed to it.
/// Hooks: <c>hook_router_logits</c> [batch, pos, expert], <c>hook_expert_indices</c> and <c>hook_expert_weights</c>
/// [batch, pos, k], and <c>hook_expert_out</c> [batch, pos, k, d_model], each chosen expert's weighted write (they sum to mlp_out).
/// </summary>
public sealed class SparseMoe
{
    readonly Activation act;
    readonly int topK;
    readonly bool renormalise;

    internal SparseMoe(ModelConfig cfg, Tensor router, Tensor wGate, Tensor wIn, Tensor wOut, HookRegistry hooks, int layer)
    {
        act = cfg.Act;
        topK = cfg.ExpertsPerToken;
        renormalise = cfg.NormTopKProb;
        (W_router, W_gate, W_in, W_out) = (router, wGate, wIn, wOut);
        string p = $"blocks.{layer}.mlp.", k = $"k={topK}";
        HookRouterLogits = hooks.Create(p + "hook_router_logits", $"[batch, pos, expert={cfg.NExperts}]", layer);
        HookExpertIndices = hooks.Create(p + "hook_expert_indices", $"[batch, pos, {k}]", layer);
        HookExpertWeights = hooks.Create(p + "hook_expert_weights", $"[batch, pos, {k}]", layer);
        HookExpertOut = hooks.Create(p + "hook_expert_out", $"[batch, pos, {k}, d_model={cfg.DModel}]", layer);
    }

    /// <summary>[d_model, expert]</summary>
    public Tensor W_router { get; }
    /// <summary>[expert, d_model, d_expert]</summary>
    public Tensor W_gate { get; }
    /// <summary>[expert, d_model, d_expert]</summary>
    public Tensor W_in { get; }
    /// <summary>[expert, d_expert, d_model]</summary>
    public Tensor W_out { get; }

    public int Experts => (int)W_router.shape[1];

    public HookPoint HookRouterLogits { get; }
    public HookPoint HookExpertIndices { get; }
    public HookPoint HookExpertWeights { get; }
    public HookPoint HookExpertOut { get; }

    public Tensor Forward(Tensor x)
    {
        long b = x.shape[0], p = x.shape[1], d = x.shape[2];
        var logits = HookRouterLogits.Run(matmul(x, W_router));
        // As Transformers does, route in float32 when the model runs in half precision.
        bool half = x.dtype is ScalarType.BFloat16 or ScalarType.Float16;
        var (weights, indices) = (half ? logits.to(ScalarType.Float32) : logits).softmax(-1).topk(topK, dim: -1);
        if (renormalise) weights = weights / weights.sum(-1, keepdim: true);
        weights = weights.to(x.dtype);
        indices = HookExpertIndices.Run(indices);
        weights = HookExpertWeights.Run(weights);

        var flat = x.reshape(b * p, d);
        var flatIndices = indices.reshape(b * p, topK);
        var flatWeights = weights.reshape(b * p, topK);
        var outputs = zeros(b * p * topK, d, dtype: x.dtype, device: x.device); // row token·k + slot
        for (int e = 0; e < Experts; e++)
        {
            var routed = (flatIndices == e).nonzero(); // [n, 2]: token, slot
            if (routed.shape[0] == 0) continue;
            var token = routed.select(1, 0);
            var slot = routed.select(1, 1);
            var xe = flat.index_select(0, token);
            var hidden = Apply(matmul(xe, W_gate[e])) * matmul(xe, W_in[e]);
            var ye = matmul(hidden, W_out[e]) * flatWeights.index(token, slot).unsqueeze(-1);
            outputs = outputs.index_add(0, token * topK + slot, ye, 1);
        }
        return HookExpertOut.Run(outputs.view(b, p, topK, d)).sum(2);
    }

    Tensor Apply(Tensor x) => Mlp.Activate(act, x);
}
