using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>A set of key positions knocked out together, e.g. all of a subject's tokens.</summary>
public sealed record KnockoutSources(string Label, IReadOnlyList<int> Positions);

/// <summary>
/// Attention knockout (Geva et al. 2023, arXiv 2304.14767): block the attention edges from each prediction position to a
/// set of source positions in every head of layers <c>[l, l + k)</c> by setting their scores to −∞ before the softmax
/// (the rest of the row renormalises); the effect is <c>M(knocked out) − M</c>. No corrupted prompt is needed.
/// Rows: window start l; columns: source sets (by default each position alone).
/// </summary>
public static class AttentionKnockout
{
    public static PatchingReport Run(HookedTransformer model, Tensor tokens, PatchMetric metric, int window = 1,
        IReadOnlyList<KnockoutSources>? sources = null)
    {
        int L = model.Config.NLayers;
        long batch = tokens.shape[0], P = tokens.shape[1];
        if (window < 1 || window > L) throw new GlassboxException($"The knockout window must be between 1 and {L} layers, got {window}.");
        sources ??= Enumerable.Range(0, (int)P).Select(p => new KnockoutSources(p.ToString(), [p])).ToList();
        if (sources.Count == 0) throw new GlassboxException("Attention knockout needs at least one source position.");
        foreach (var s in sources)
        {
            if (s.Positions.Count == 0 || s.Positions.Any(p => p < 0 || p >= P))
                throw new GlassboxException($"Knockout sources '{s.Label}' must be positions in [0, {P}).");
            foreach (var t in metric.Targets)
                if (Enumerable.Range(0, t.Position + 1).All(s.Positions.Contains))
                    throw new GlassboxException($"Knocking out '{s.Label}' would leave position {t.Position} nothing to attend to.");
        }

        using var scope = NewDisposeScope();
        using var task = new PatchingTask("attention knockout", tokens, tokens, metric);
        double unmodified = task.Measure(model, tokens);
        int windows = L - window + 1;
        var values = new double[windows, sources.Count];
        for (int c = 0; c < sources.Count; c++)
        {
            using var step = NewDisposeScope();
            var blocked = Blocked(metric, sources[c].Positions, batch, P, model.Device);
            HookFn knockOut = (scores, _) => scores.masked_fill(blocked, double.NegativeInfinity);
            for (int l = 0; l < windows; l++)
                values[l, c] = task.Measure(model, tokens, Enumerable.Range(l, window).Select(layer => (HookNames.Full("attn_scores", layer), knockOut)).ToArray());
        }
        string rows = window == 1 ? "layer" : $"window start ({window} layers)";
        return new PatchingReport($"attention knockout ({window}-layer window)", metric.Name, unmodified, unmodified, unmodified,
            rows, "source", ActivationPatching.Labels("L", windows), sources.Select(s => s.Label).ToArray(), values);
    }

    /// <summary>[batch, 1, query, key]: true at (each target's item, its position, each source).</summary>
    static Tensor Blocked(PatchMetric metric, IReadOnlyList<int> sources, long batch, long positions, Device device)
    {
        var mask = new bool[batch * positions * positions];
        foreach (var t in metric.Targets)
            foreach (var s in sources)
                mask[(t.Item * positions + t.Position) * positions + s] = true;
        return tensor(mask, device: device).view(batch, 1, positions, positions);
    }
}
