using System.Globalization;
using Glassbox.Reporting;

namespace Glassbox.Patching;

/// <summary>
/// A patching sweep: the metric after each patch (<see cref="Values"/>), the clean and corrupted baselines and the unpatched
/// run, shown as the change from the unpatched run and, when the baselines differ, normalised to 0 = corrupted, 1 = clean.
/// </summary>
public sealed record PatchingReport(string Title, string Metric, double Clean, double Corrupted, double Unpatched,
    string RowAxis, string ColumnAxis, IReadOnlyList<string> RowLabels, IReadOnlyList<string> ColumnLabels, double[,] Values) : IReport
{
    public bool CanNormalise => Math.Abs(Clean - Corrupted) >= 1e-6;

    public double Normalised(int row, int column) => PatchingTask.Normalise(Values[row, column], Clean, Corrupted);

    public Heatmap Effects => Grid($"{Title}: change in {Metric}", (r, c) => Values[r, c] - Unpatched);

    public Heatmap NormalisedGrid => Grid($"{Title}: normalised {Metric} (0 = corrupted, 1 = clean)", Normalised);

    public IReadOnlyList<Heatmap> Heatmaps => CanNormalise ? [NormalisedGrid, Effects] : [Effects];

    Heatmap Grid(string title, Func<int, int, double> value)
    {
        var grid = new double[Values.GetLength(0), Values.GetLength(1)];
        for (int r = 0; r < grid.GetLength(0); r++) for (int c = 0; c < grid.GetLength(1); c++) grid[r, c] = value(r, c);
        return new Heatmap(title, RowAxis, ColumnAxis, RowLabels, ColumnLabels, grid).Validated();
    }

    /// <summary>True for interventions on one run with no corrupted counterpart (knockout): the baselines are all the unmodified run.</summary>
    bool SingleRun => Clean == Corrupted && Corrupted == Unpatched;

    public string ToText() => (SingleRun
            ? string.Format(CultureInfo.InvariantCulture, "{0}: unmodified {1:F4}\n\n", Metric, Unpatched)
            : string.Format(CultureInfo.InvariantCulture, "{0}: clean {1:F4}, corrupted {2:F4}, unpatched {3:F4}\n\n", Metric, Clean, Corrupted, Unpatched))
        + string.Join("\n", Heatmaps.Select(h => h.ToTable()));

    public string ToCsv() => Effects.ToCsv();

    public string ToJson() => ReportJson.Serialize(new
    {
        title = Title, metric = Metric, clean = Clean, corrupted = Corrupted, unpatched = Unpatched,
        rowAxis = RowAxis, columnAxis = ColumnAxis, rows = RowLabels, columns = ColumnLabels,
        values = Grid(Title, (r, c) => Values[r, c]).RowsArray,
        normalised = CanNormalise ? NormalisedGrid.RowsArray : null,
    });

    public override string ToString() => ToText();
}
