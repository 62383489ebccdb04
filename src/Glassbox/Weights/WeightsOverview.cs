using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Reporting;

namespace Glassbox.Weights;

/// <summary>Every head's copying score (layer × head) and the Q/K/V composition scores between heads: what <c>glassbox weights</c> shows for a whole model.</summary>
public sealed record WeightsOverview(HeadScores Copying, CompositionScores Composition) : IReport
{
    public static WeightsOverview Compute(HookedTransformer model) => new(CopyingScores(model), CompositionScores.Compute(model));

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

    public IReadOnlyList<Heatmap> Heatmaps => [Copying.Grid, .. Composition.Heatmaps];
    public string ToText() => Copying.ToText() + "\n" + Composition.ToText();
    public string ToCsv() => Composition.ToCsv();
    public string ToJson() => ReportJson.Serialize(new { copying = Copying.Grid, composition = Composition });
}
