using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// Value zeroing (Mohebbi et al. 2023, arXiv 2301.12971): rerun block l with token j's value vectors zeroed in every
/// head (patterns unchanged, since keys are untouched); <c>c_ij = 1 − cos(x̃^{l+1}_i(¬j), x^{l+1}_i)</c>, zero for j &gt; i by
/// causality; rows normalised and rolled out across layers. The n reruns of a block run batched within the memory budget.
/// </summary>
public sealed class ValueZeroing : IAttributionMethod
{
    public string Name => "value_zeroing";
    public string Description => "rollout of 1 − cos(block output, block output with a token's values zeroed) (Mohebbi et al. 2023)";
    public bool UsesTarget => false;

    public MemoryBudget Budget { get; init; } = MemoryBudget.Default;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (_, cache) = model.RunWithCache(tensor(context, device: model.W_E.device).unsqueeze(0), "blocks.*.hook_resid_pre,blocks.*.hook_resid_post");
        using (cache)
            return LayerMixing.Rollout(Enumerable.Range(0, model.Config.NLayers)
                .Select(l => LayerMixing.RowNormalise(Scores(model, l, cache["resid_pre", l][0], cache["resid_post", l][0]))).ToList());
    }

    /// <summary>c_ij of block <paramref name="layer"/>, [query i, zeroed token j], from its input and output [pos, d_model].</summary>
    public Tensor Scores(HookedTransformer model, int layer, Tensor residPre, Tensor residPost)
    {
        long n = residPre.shape[0], chunk = Budget.BatchSize(model.Config, n, backward: false);
        var block = model.Blocks[layer];
        var columns = new List<Tensor>();
        for (long start = 0; start < n; start += chunk)
        {
            using var step = NewDisposeScope();
            long count = Math.Min(chunk, n - start);
            // Batch row b zeroes the values of token start + b.
            var keep = 1 - eye(n, dtype: residPre.dtype, device: residPre.device).narrow(0, start, count);
            using var hook = model.Hooks.Add(block.Attn.HookV.Name, (v, _) => v * keep.view(count, n, 1, 1));
            var zeroed = block.Forward(residPre.unsqueeze(0).expand(count, -1, -1), 0, null);
            columns.Add((1 - nn.functional.cosine_similarity(zeroed, residPost.unsqueeze(0), dim: -1)).MoveToOuterDisposeScope());
        }
        return cat(columns, 0).t().tril();
    }
}
