using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Patching;

namespace Glassbox.Circuits;

/// <summary>
/// Path patching (Wang et al. 2023, arXiv 2211.00593; Goldowsky-Dill et al. 2023, arXiv 2304.05969): the effect of a sender on the
/// metric only through chosen receivers. The clean run is repeated with <c>in_r ← in_r − z_s(x) + z_s(x̃)</c> for each receiver
/// input r (a head's q, k or v, an MLP's input, the logits) and everything downstream recomputed; the effect is M − M(clean).
/// Receivers name readers ("L2H0.q", "MLP1", "logits") or a head ("L2H0": its q, k and v).
/// </summary>
public static class PathPatching
{
    public static double Effect(HookedTransformer model, PatchingTask task, string sender, IEnumerable<string> receivers,
        EdgeAblation ablation = EdgeAblation.Resample)
    {
        var graph = new ComputationalGraph(model.Config);
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, task.Clean, task.Corrupted, ablation));
        return Effect(model, task, patcher, graph.WriterNamed(sender), receivers.SelectMany(graph.ReadersNamed).ToList());
    }

    /// <summary>Every head as the sender, the same receivers: a layer × head grid (heads at or after the receivers give 0).</summary>
    public static HeadScores Senders(HookedTransformer model, PatchingTask task, IEnumerable<string> receivers, EdgeAblation ablation = EdgeAblation.Resample)
    {
        var graph = new ComputationalGraph(model.Config);
        var readers = receivers.SelectMany(graph.ReadersNamed).ToList();
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, task.Clean, task.Corrupted, ablation));
        var values = new double[model.Config.NLayers, model.Config.NHeads];
        foreach (var w in graph.Writers.Where(w => w.Head >= 0)) values[w.Layer, w.Head] = Effect(model, task, patcher, w, readers);
        return new HeadScores($"path-patching effect on {task.Metric.Name} via {string.Join(", ", receivers)}", values);
    }

    static double Effect(HookedTransformer model, PatchingTask task, EdgePatcher patcher, Writer sender, IReadOnlyList<Reader> readers)
    {
        var graph = patcher.Graph;
        var patched = new bool[graph.Edges.Count];
        foreach (var r in readers.Where(r => sender.Index < r.Group.Upstream)) patched[graph.EdgeIndex[r.Index][sender.Index]] = true;
        if (!patched.Any(p => p)) return 0;
        using var scope = TorchSharp.torch.NewDisposeScope();
        return task.Evaluate(model, patcher.Run(task.Clean, patched)).item<double>() - task.Measure(model, task.Clean);
    }
}
