using Glassbox.Reporting;

namespace Glassbox.Mechanisms;

/// <summary>A score per attention head, [layer, head], with the name of what it measures.</summary>
public sealed record HeadScores(string Metric, double[,] Values) : IReport
{
    public int Layers => Values.GetLength(0);
    public int Heads => Values.GetLength(1);

    public double this[int layer, int head] => Values[layer, head];

    /// <summary>The highest-scoring head.</summary>
    public (int Layer, int Head, double Score) Top() => Ranked().First();

    public IEnumerable<(int Layer, int Head, double Score)> Ranked() =>
        from l in Enumerable.Range(0, Layers) from h in Enumerable.Range(0, Heads)
        orderby Values[l, h] descending select (l, h, Values[l, h]);

    /// <summary>layer × head grid.</summary>
    public Heatmap Grid => new Heatmap(Metric, "layer", "head", Heatmap.Numbered("L", Layers), Heatmap.Numbered("H", Heads), Values).Validated();

    public IReadOnlyList<Heatmap> Heatmaps => [Grid];

    public string ToTable() => Grid.ToTable();
    public string ToText() => ToTable();

    public string ToCsv() => "layer,head," + Csv.Field(Metric) + "\n" + string.Concat(
        from l in Enumerable.Range(0, Layers) from h in Enumerable.Range(0, Heads) select $"{l},{h},{Values[l, h]:R}\n");

    public string ToJson() => ReportJson.Serialize(new { metric = Metric, values = Grid.RowsArray });

    public override string ToString() => ToTable();
}
