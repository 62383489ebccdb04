using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>
/// Attribution patching (Nanda 2023; Syed et al. 2023, arXiv 2310.10348): every patch of an <see cref="ActivationPatching"/> sweep
/// to first order from one gradient, <c>ĉ(n) = Σ (h_n(source) − h_n(target)) ⊙ ∂M/∂h_n |_target</c> — two forward passes and one
/// backward for all nodes. AtP* (Kramár et al. 2024, arXiv 2403.00745): with <c>qkFix</c>, queries and keys are scored by their
/// exact pattern change, <c>Σ (A' − A) ∂M/∂A</c>, instead of through the saturating softmax (a head: pattern change plus AtP on its
/// values); with <c>gradDrop</c>, the score is <c>(1/(L−1)) Σ_l' |ĉ_l'(n)|</c> with the gradient through layer l''s writes dropped,
/// which exposes effects that cancel.
/// </summary>
public static class AttributionPatching
{
    public static PatchingReport Run(HookedTransformer model, PatchingTask task, PatchSite site, PatchDirection direction = PatchDirection.Noising,
        PatchValue value = PatchValue.Resample, bool qkFix = false, bool gradDrop = false)
    {
        var cfg = model.Config;
        if (cfg.AttnOnly && site == PatchSite.MlpOut) throw new GlassboxException("This model has no MLPs to patch.");
        bool fixQk = qkFix && site is PatchSite.Heads or PatchSite.HeadQ or PatchSite.HeadK;
        var (sourceTokens, targetTokens) = direction == PatchDirection.Denoising ? (task.Clean, task.Corrupted) : (task.Corrupted, task.Clean);
        // The hooks whose gradient is read; with the QK fix a head is read at its pattern (and values), a query or key at the pattern.
        var shortNames = !fixQk ? [ActivationPatching.HookShortName(site)] : site == PatchSite.Heads ? new[] { "pattern", "z" } : ["pattern"];
        // What the exact part needs from both runs: a head's pattern and values, or the queries and keys to re-softmax.
        var exactNames = !fixQk ? [] : site == PatchSite.Heads ? new[] { "pattern", "v" }
            : cfg.Positional == PositionalKind.Rotary ? ["rot_q", "rot_k"] : ["q", "k"];
        string Names(IEnumerable<string> shorts) => string.Join(",", shorts.SelectMany(n => Enumerable.Range(0, cfg.NLayers).Select(l => HookNames.Full(n, l))));

        using var scope = NewDisposeScope();
        // Two forward passes and one backward in all (more only for the QK fix's target values and GradDrop).
        var (sourceLogits, source) = model.RunWithCache(sourceTokens, Names(shortNames.Concat(exactNames).Distinct()));
        double sourceMetric = task.Evaluate(model, sourceLogits).item<double>();
        var targetValues = exactNames.Length > 0 ? model.RunWithCache(targetTokens, Names(exactNames)).Cache : null;
        double unpatched = double.NaN;
        using (source)
        using (targetValues)
        {
            // Δ per hook point: the patched-in value minus the target's, with the QK fix the exact pattern change.
            double[,] Scores(int? droppedLayer)
            {
                using var inner = NewDisposeScope();
                var drops = new List<IDisposable>();
                if (droppedLayer is int d)
                {
                    var writes = model.Blocks[d].Mlp is null ? new[] { model.Blocks[d].HookAttnOut } : [model.Blocks[d].HookAttnOut, model.Blocks[d].HookMlpOut!];
                    drops.Add(model.Hooks.Add(writes, (x, _) => x.detach()));
                }
                try
                {
                    var (logits, target) = model.RunWithCache(targetTokens, Names(shortNames), keepGrad: true);
                    using (target)
                    {
                        var metric = task.Evaluate(model, logits);
                        unpatched = metric.item<double>();
                        metric.backward();
                        var perLayer = Enumerable.Range(0, cfg.NLayers).Select(l => shortNames.Select(n =>
                        {
                            var h = target[n, l].detach();
                            var delta = !fixQk ? ActivationPatching.Replacement(source[n, l], direction, value) - h
                                : n == "z" ? ValuePath(model, l, source, targetValues!)
                                : site == PatchSite.Heads ? source["pattern", l] - h
                                : FixedPattern(model, l, site, source, targetValues!) - h;
                            var grad = target[n, l].grad ?? zeros_like(h);
                            var reduced = Reduce(delta * grad, n, site, task.Positions);
                            // A kv head's keys move every query head of its group: its score is their sum.
                            return site == PatchSite.HeadK && n == "pattern" && cfg.NKvHeads != cfg.NHeads
                                ? reduced.view(1, cfg.NKvHeads, -1).sum(-1) : reduced;
                        }).Aggregate((a, b) => a + b)).ToArray();
                        return ToGrid(stack(perLayer));
                    }
                }
                finally
                {
                    foreach (var r in drops) r.Dispose();
                }
            }

            double[,] estimate;
            if (!gradDrop) estimate = Scores(null);
            else
            {
                var dropped = Enumerable.Range(0, cfg.NLayers).Select(l => Scores(l)).ToArray();
                estimate = new double[dropped[0].GetLength(0), dropped[0].GetLength(1)];
                for (int r = 0; r < estimate.GetLength(0); r++)
                    for (int c = 0; c < estimate.GetLength(1); c++)
                        estimate[r, c] = dropped.Sum(g => Math.Abs(g[r, c])) / Math.Max(1, cfg.NLayers - 1);
            }
            var (clean, corrupted) = direction == PatchDirection.Denoising ? (sourceMetric, unpatched) : (unpatched, sourceMetric);
            var values = new double[estimate.GetLength(0), estimate.GetLength(1)];
            for (int r = 0; r < values.GetLength(0); r++) for (int c = 0; c < values.GetLength(1); c++) values[r, c] = unpatched + estimate[r, c];
            var (rows, columns, axes) = Layout(cfg, site, values, task.Positions);
            string method = gradDrop ? "AtP* GradDrop" : fixQk ? "AtP*" : "AtP";
            return new PatchingReport($"{method} {direction} {site}", task.Metric.Name, clean, corrupted, unpatched, axes.Row, axes.Column, rows, columns, values);
        }
    }

    /// <summary>Sums Δ ⊙ ∂M/∂h over everything but the sweep's axes: [rows-of-this-layer, columns].</summary>
    static Tensor Reduce(Tensor product, string shortName, PatchSite site, long positions) => site switch
    {
        PatchSite.ResidPre or PatchSite.AttnOut or PatchSite.MlpOut => product.sum(new long[] { 0, 2 }).unsqueeze(0),     // [1, pos]
        PatchSite.HeadsByPosition => product.sum(new long[] { 0, 3 }).t(),                                              // [head, pos]
        _ when shortName == "pattern" => product.sum(new long[] { 0, 2, 3 }).unsqueeze(0),                              // [1, head]
        _ => product.sum(new long[] { 0, 1, 3 }).unsqueeze(0),                                                          // [1, head]
    };

    /// <summary>
    /// The pattern with the head's queries (HeadQ) or keys (HeadK) from the source run, the others from the target, re-softmaxed;
    /// with grouped queries a kv head's keys move every query head of its group, and its score is their sum.
    /// </summary>
    static Tensor FixedPattern(HookedTransformer model, int layer, PatchSite site, ActivationCache source, ActivationCache target)
    {
        var cfg = model.Config;
        string q = cfg.Positional == PositionalKind.Rotary ? "rot_q" : "q", k = cfg.Positional == PositionalKind.Rotary ? "rot_k" : "k";
        var queries = (site == PatchSite.HeadQ ? source : target)[q, layer].transpose(1, 2);   // [batch, head, pos, d_head]
        var keys = (site == PatchSite.HeadK ? source : target)[k, layer].transpose(1, 2);
        if (cfg.NKvHeads != cfg.NHeads) keys = keys.repeat_interleave(cfg.NHeads / cfg.NKvHeads, dim: 1);
        long p = queries.shape[2];
        var scores = matmul(queries, keys.transpose(2, 3)) / Math.Sqrt(cfg.DHead);
        var future = ones(p, p, dtype: ScalarType.Bool, device: scores.device).triu(1);
        return scores.masked_fill(future, double.NegativeInfinity).softmax(-1);
    }

    /// <summary>The change of z when only the values move, the pattern kept: Σ_k A_qk (v_k(source) − v_k(target)).</summary>
    static Tensor ValuePath(HookedTransformer model, int layer, ActivationCache source, ActivationCache target)
    {
        var cfg = model.Config;
        var dv = source["v", layer] - target["v", layer];                                       // [batch, pos, kv_head, d_head]
        if (cfg.NKvHeads != cfg.NHeads) dv = dv.repeat_interleave(cfg.NHeads / cfg.NKvHeads, dim: 2);
        return einsum("bhqk,bkhe->bqhe", target["pattern", layer], dv);
    }

    static double[,] ToGrid(Tensor stacked)
    {
        // [layer, rows, columns] → [layer·rows, columns]
        var t = stacked.reshape(-1, stacked.shape[^1]).to(ScalarType.Float64).cpu();
        var values = t.data<double>().ToArray();
        var grid = new double[t.shape[0], t.shape[1]];
        Buffer.BlockCopy(values, 0, grid, 0, values.Length * sizeof(double));
        return grid;
    }

    static (string[] Rows, string[] Columns, (string Row, string Column) Axes) Layout(ModelConfig cfg, PatchSite site, double[,] values, long positions)
    {
        int L = cfg.NLayers;
        return site switch
        {
            PatchSite.ResidPre or PatchSite.AttnOut or PatchSite.MlpOut => (ActivationPatching.Labels("L", L), ActivationPatching.Labels("", (int)positions), ("layer", "position")),
            PatchSite.HeadsByPosition => (Enumerable.Range(0, values.GetLength(0)).Select(i => $"L{i / cfg.NHeads}H{i % cfg.NHeads}").ToArray(),
                ActivationPatching.Labels("", (int)positions), ("head", "position")),
            _ => (ActivationPatching.Labels("L", L), ActivationPatching.Labels(values.GetLength(1) != cfg.NHeads ? "KV" : "H", values.GetLength(1)), ("layer", "head")),
        };
    }
}
