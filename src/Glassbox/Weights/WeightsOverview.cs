using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Reporting;

namespace Glassbox.Weights;

/// <summary>
/// Every head's copying score (layer × head), the Q/K/V composition scores between heads, and, for learned positions, each
/// head's positional QK score by offset: what <c>glassbox weights</c> shows for a whole model.
/// </summary>
public sealed record WeightsOverview(HeadScores Copying, CompositionScores Composition, Heatmap? PositionalOffsets = null) : IReport
{
    const int Offsets = 5;

    public static WeightsOverview Compute(HookedTransformer model) =>
        new(CopyingScores(model), CompositionScores.Compute(model), model.W_pos is null ? null : PositionalOffsetGrid(model));

    /// <summary>Head × offset grid of <see cref="HeadCircuits.PositionalOffsetScores"/>, every layer's heads stacked.</summary>
    public static Heatmap PositionalOffsetGrid(HookedTransformer model)
    {
        using var circuits = new HeadCircuits(model);
        int L = model.Config.NLayers, H = model.Config.NHeads;
        var values = new double[L * H, Offsets];
        for (int l = 0; l < L; l++)
        {
            var scores = circuits.PositionalOffsetScores(l, Offsets);
            for (int h = 0; h < H; h++) for (int d = 0; d < Offsets; d++) values[l * H + h, d] = scores[h, d];
        }
        return new Heatmap("positional QK by offset q − k", "head", "offset",
            Enumerable.Range(0, L * H).Select(i => $"L{i / H}H{i % H}").ToArray(), Enumerable.Range(0, Offsets).Select(d => $"q−k={d}").ToArray(), values).Validated();
    }

    /// <summary>The copying score of every head, [layer, head].</summary>
    public static HeadScores CopyingScores(HookedTransformer model)
    {
        using var circuits = new HeadCircuits(model);
        var values = new double[model.Config.NLayers, model.Config.NHeads];
        for (int l = 0; l < model.Config.NLayers; l++)
        {
            var scores = circuits.CopyingScores(l);
            for (int h = 0; h < scores.Length; h++) values[l, h] = scores[h];
        }
        return new HeadScores("copying score", values);
    }

    public IReadOnlyList<Heatmap> Heatmaps => [Copying.Grid, .. Composition.Heatmaps, .. PositionalOffsets is null ? Array.Empty<Heatmap>() : [PositionalOffsets]];
    public string ToText() => Copying.ToText() + "\n" + Composition.ToText() + (PositionalOffsets is null ? "" : "\n" + PositionalOffsets.ToTable());
    public string ToCsv() => Composition.ToCsv();
    public string ToJson() => ReportJson.Serialize(new { copying = Copying.Grid, composition = Composition, positionalOffsets = PositionalOffsets });
}
