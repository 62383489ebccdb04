using Glassbox.Hooks;
using Glassbox.Models;
using Glassbox.Patching;
using static TorchSharp.torch;

namespace Glassbox.Circuits;

/// <summary>
/// Edge attribution patching (Syed, Rager &amp; Conmy 2023, arXiv 2310.10348) and EAP-IG (Hanna, Pezzelle &amp; Belinkov 2024,
/// arXiv 2403.17806): the first-order effect of patching every edge at once,
/// <c>score(u→v) = Σ_{pos,d} (ẑ_u − z_u) ⊙ (1/m) Σ_k ∂M/∂in_v |_{ẽ + (k/m)(e − ẽ)}</c>, with the embeddings interpolated from the
/// patch values' (ẽ) to the clean ones (e); m = 1 is EAP. The circuit keeps the edges with the largest |score|.
/// </summary>
public static class EdgeAttributionPatching
{
    /// <summary>Per-edge scores, an estimate of M(edge patched) − M(clean); <paramref name="steps"/> = 1 is EAP.</summary>
    public static double[] Scores(HookedTransformer model, ComputationalGraph graph, PatchingTask task, Tensor patchValues, int steps = 1)
    {
        if (steps < 1) throw new GlassboxException($"EAP-IG needs at least one integration step, got {steps}.");
        using var scope = NewDisposeScope();
        var delta = patchValues - EdgePatcher.Writers(model, task.Clean);   // [writer, batch, pos, d_model]
        var points = graph.Groups.Select(g => model.Hooks[g.HookName]).ToList();
        var gradients = graph.Groups.Select(_ => (Tensor?)null).ToArray();
        var corruptedEmbedding = patchValues[0];
        for (int k = 1; k <= steps; k++)
        {
            double alpha = k / (double)steps;
            HookFn interpolate = (x, _) => corruptedEmbedding + alpha * (x - corruptedEmbedding);
            using var registration = model.Hooks.Add("blocks.0.hook_resid_pre", interpolate);
            var (logits, cache) = model.RunWithCache(task.Clean, points, keepGrad: true);
            using (cache)
            {
                task.Evaluate(model, logits).backward();
                foreach (var g in graph.Groups)
                {
                    var grad = cache.Grad(g.HookName).detach();
                    if (g.Port is not ('q' or 'k' or 'v')) grad = grad.unsqueeze(2); // [batch, pos, rows=1, d_model]
                    gradients[g.Index] = gradients[g.Index] is { } sum ? sum + grad : grad;
                }
            }
        }
        var scores = new double[graph.Edges.Count];
        foreach (var g in graph.Groups)
        {
            var perEdge = einsum("wbpd,bprd->rw", delta.narrow(0, 0, g.Upstream), gradients[g.Index]! / steps).to(ScalarType.Float64).cpu();
            var values = perEdge.data<double>().ToArray();
            foreach (var r in graph.Readers.Where(r => r.Group == g))
                for (int w = 0; w < g.Upstream; w++) scores[graph.EdgeIndex[r.Index][w]] = values[r.Row * g.Upstream + w];
        }
        return scores;
    }

    /// <summary>The circuit of the <paramref name="keepFraction"/> of edges with the largest |score|, pruned and evaluated for faithfulness.</summary>
    public static Circuit Discover(HookedTransformer model, PatchingTask task, int steps = 5, double keepFraction = 0.1,
        EdgeAblation ablation = EdgeAblation.Resample)
    {
        var graph = new ComputationalGraph(model.Config);
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, task.Clean, task.Corrupted, ablation));
        var scores = Scores(model, graph, task, patcher.Values, steps);
        int k = Math.Clamp((int)Math.Round(keepFraction * graph.Edges.Count), 1, graph.Edges.Count);
        var kept = new bool[graph.Edges.Count];
        foreach (int e in Enumerable.Range(0, scores.Length).OrderByDescending(e => Math.Abs(scores[e])).Take(k)) kept[e] = true;
        kept = graph.Prune(kept);
        string method = steps == 1 ? "EAP" : $"EAP-IG (m = {steps})";
        return new Circuit(method, task.Metric.Name, graph, scores, kept, Faithfulness.Evaluate(model, task, patcher, kept));
    }
}
