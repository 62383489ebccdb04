using Glassbox.Models;
using Glassbox.Patching;
using static TorchSharp.torch;

namespace Glassbox.Circuits;

/// <summary>
/// How much of the behaviour a circuit carries (Wang et al. 2023; Hanna et al. 2024): the metric with every edge outside the
/// circuit ablated, M(C), against the full model M(G) and everything ablated M(∅); normalised
/// <c>(M(C) − M(∅))/(M(G) − M(∅))</c> is 1 for C = G and 0 for C = ∅. Also KL(p_G ‖ p_C) at the targets.
/// </summary>
public sealed record Faithfulness(double Full, double Empty, double Circuit, double KlFromFull, int Edges, int TotalEdges)
{
    public double Normalised => PatchingTask.Normalise(Circuit, Full, Empty);

    /// <summary>M(C)/M(G): the fraction of the raw metric the circuit keeps.</summary>
    public double Fraction => Circuit / Full;

    public static Faithfulness Evaluate(HookedTransformer model, PatchingTask task, EdgePatcher patcher, bool[] kept)
    {
        using var scope = NewDisposeScope();
        var none = new bool[kept.Length];
        var all = Enumerable.Repeat(true, kept.Length).ToArray();
        double Metric(Tensor logits) => task.Evaluate(model, logits).item<double>();
        var circuitLogits = patcher.Run(task.Clean, kept.Select(k => !k).ToArray());
        using var kl = task.With(MetricKind.KL);
        return new Faithfulness(Metric(patcher.Run(task.Clean, none)), Metric(patcher.Run(task.Clean, all)), Metric(circuitLogits),
            kl.Evaluate(model, circuitLogits).item<double>(), kept.Count(k => k), kept.Length);
    }
}
