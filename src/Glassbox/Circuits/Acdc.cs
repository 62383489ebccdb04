using Glassbox.Models;
using Glassbox.Patching;
using static TorchSharp.torch;

namespace Glassbox.Circuits;

/// <summary>
/// Automatic circuit discovery (Conmy et al. 2023, arXiv 2304.14997): visit readers from the logits down and, for each of
/// their incoming edges (latest writer first), patch it; keep it patched when the loss grows by less than τ,
/// <c>D(G∖e) − D(G) &lt; τ</c>. D is KL(p_clean ‖ p_G) for a KL task, else the drop of the task metric M(clean) − M(G).
/// A reader whose node no longer reaches the logits loses its edges untested. One forward pass per edge tested.
/// </summary>
public static class Acdc
{
    public static Circuit Discover(HookedTransformer model, PatchingTask task, double tau, EdgeAblation ablation = EdgeAblation.Resample)
    {
        // τ ≤ 0 is legitimate: it removes only edges whose removal lowers the loss by more than |τ|.
        if (!double.IsFinite(tau)) throw new GlassboxException($"ACDC's threshold τ must be a finite number, got {tau}.");
        var graph = new ComputationalGraph(model.Config);
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, task.Clean, task.Corrupted, ablation));
        double full = task.Measure(model, task.Clean);
        double Loss(bool[] patched)
        {
            using var scope = NewDisposeScope();
            double m = task.Evaluate(model, patcher.Run(task.Clean, patched)).item<double>();
            return task.Metric.LowerIsBetter ? m : full - m;
        }
        var patchedEdges = new bool[graph.Edges.Count];
        var increase = new double[graph.Edges.Count];
        double current = Loss(patchedEdges);
        foreach (var reader in graph.Readers.Reverse())
        {
            var incoming = graph.EdgeIndex[reader.Index].Reverse().ToArray();
            if (!graph.ReachesLogits(reader, patchedEdges.Select(p => !p).ToArray()))
            {
                foreach (int e in incoming) patchedEdges[e] = true;
                continue;
            }
            foreach (int e in incoming)
            {
                patchedEdges[e] = true;
                double loss = Loss(patchedEdges);
                increase[e] = loss - current;
                if (increase[e] < tau) current = loss;
                else patchedEdges[e] = false;
            }
        }
        var kept = graph.Prune(patchedEdges.Select(p => !p).ToArray());
        return new Circuit($"ACDC (τ = {tau:G3})", task.Metric.Name, graph, increase, kept, Faithfulness.Evaluate(model, task, patcher, kept));
    }
}
