using System.Globalization;
using System.Text;
using Glassbox.Mechanisms;
using Glassbox.Reporting;

namespace Glassbox.Patching;

/// <summary>
/// Direct logit attribution, averaged over the targets: every part of the final residual with its direct effect, the
/// constant term (β and b_U read along the same direction), and the finer splits (neurons, head × source position,
/// accumulated residual per layer). <see cref="Total"/> = Σ parts + constant equals <see cref="Actual"/>.
/// </summary>
public sealed record DlaReport(string Metric, double Actual, double Constant, IReadOnlyList<(string Component, double Value)> Parts,
    HeadScores Heads, double[] Mlps, double[,] Neurons, double[,] HeadSources, double[] Accumulated) : IReport
{
    public double Total => Parts.Sum(p => p.Value) + Constant;

    public double this[string component] => Parts.First(p => p.Component == component).Value;

    /// <summary>The neurons with the largest |direct effect|, (layer, neuron, effect).</summary>
    public IEnumerable<(int Layer, int Neuron, double Value)> TopNeurons(int k) =>
        (from l in Enumerable.Range(0, Neurons.GetLength(0)) from n in Enumerable.Range(0, Neurons.GetLength(1))
         orderby Math.Abs(Neurons[l, n]) descending select (l, n, Neurons[l, n])).Take(k);

    public Heatmap SourceGrid => new Heatmap($"direct effect on {Metric} by head × source position", "head", "source position",
        Enumerable.Range(0, HeadSources.GetLength(0)).Select(i => $"L{i / Heads.Heads}H{i % Heads.Heads}").ToArray(),
        Heatmap.Numbered("", HeadSources.GetLength(1)), HeadSources).Validated();

    /// <summary>The accumulated residual read out with the final scale frozen: row l is resid_pre l (the last row: the final residual), plus the constant.</summary>
    public Heatmap AccumulatedGrid
    {
        get
        {
            var values = new double[Accumulated.Length, 1];
            for (int i = 0; i < Accumulated.Length; i++) values[i, 0] = Accumulated[i] + Constant;
            var rows = Enumerable.Range(0, Accumulated.Length).Select(i => i < Accumulated.Length - 1 ? $"resid_pre {i}" : "final").ToArray();
            return new Heatmap($"accumulated residual → {Metric}", "layer", "", rows, [Metric], values).Validated();
        }
    }

    public IReadOnlyList<Heatmap> Heatmaps => [Heads.Grid, SourceGrid, AccumulatedGrid];

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"{Metric}: actual {Actual:F4} = Σ parts {Total - Constant:F4} + constant {Constant:F4}\n\n");
        sb.Append("component        direct effect\n");
        foreach (var (name, value) in Parts.OrderByDescending(p => Math.Abs(p.Value)).Take(20)) sb.Append(c, $"{name,-16} {value,12:F4}\n");
        sb.Append('\n').Append(Heads.ToTable());
        if (Neurons.GetLength(1) > 0)
        {
            sb.Append("\nMLP     " + string.Join("", Mlps.Select((v, l) => string.Format(c, "  L{0}={1:F4}", l, v))) + "\n");
            sb.Append("top neurons: " + string.Join(", ", TopNeurons(8).Select(n => string.Format(c, "L{0}N{1} {2:F4}", n.Layer, n.Neuron, n.Value))) + "\n");
        }
        sb.Append('\n').Append(AccumulatedGrid.ToTable());
        return sb.ToString();
    }

    public string ToCsv() => "component,direct_effect\n" + string.Concat(Parts.Select(p => $"{Csv.Field(p.Component)},{p.Value.ToString("R", CultureInfo.InvariantCulture)}\n"))
        + $"constant,{Constant.ToString("R", CultureInfo.InvariantCulture)}\n";

    public string ToJson() => ReportJson.Serialize(new
    {
        metric = Metric, actual = Actual, constant = Constant, total = Total,
        parts = Parts.Select(p => new { component = p.Component, value = p.Value }),
        heads = Heads.Grid.RowsArray, mlps = Mlps,
        topNeurons = TopNeurons(20).Select(n => new { layer = n.Layer, neuron = n.Neuron, value = n.Value }),
        headSources = SourceGrid.RowsArray, accumulated = Accumulated,
    });

    public override string ToString() => ToText();
}
