using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Glassbox.Reporting;

/// <summary>
/// A labelled matrix: layer × head scores, target × source attributions, layer × position patching effects.
/// Every technique that produces a grid returns one, so the terminal, CSV, JSON, PNG and the web viewer show the same numbers.
/// </summary>
public sealed record Heatmap(string Title, string RowAxis, string ColumnAxis,
    IReadOnlyList<string> RowLabels, IReadOnlyList<string> ColumnLabels, [property: JsonIgnore] double[,] Values)
{
    public int Rows => Values.GetLength(0);
    public int Columns => Values.GetLength(1);
    public double this[int row, int column] => Values[row, column];

    /// <summary>The values as nested rows, for JSON (a 2-D array does not serialise).</summary>
    [JsonPropertyName("values")]
    public double[][] RowsArray => Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, Columns).Select(c => Values[r, c]).ToArray()).ToArray();

    /// <summary>Checks that the labels match the matrix; a mismatch is a programming error in the technique.</summary>
    public Heatmap Validated()
    {
        if (RowLabels.Count != Rows || ColumnLabels.Count != Columns)
            throw new ArgumentException($"Heatmap '{Title}': {RowLabels.Count}×{ColumnLabels.Count} labels for a {Rows}×{Columns} matrix.");
        return this;
    }

    /// <summary>Row and column labels come from integers ("L0", "L1", ...).</summary>
    public static IReadOnlyList<string> Numbered(string prefix, int count) => Enumerable.Range(0, count).Select(i => prefix + i).ToArray();

    /// <summary>A fixed-width text grid; columns are truncated labels so wide grids stay readable.</summary>
    public string ToTable(int decimals = 3)
    {
        string format = "F" + decimals;
        int width = Math.Max(decimals + 5, Math.Min(12, ColumnLabels.Select(l => l.Length).DefaultIfEmpty(0).Max() + 1));
        int labelWidth = Math.Max(RowAxis.Length, RowLabels.Select(l => l.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder(Title).Append('\n');
        sb.Append(RowAxis.PadRight(labelWidth));
        foreach (var c in ColumnLabels) sb.Append(Fit(c, width - 1).PadLeft(width));
        sb.Append('\n');
        for (int r = 0; r < Rows; r++)
        {
            sb.Append(RowLabels[r].PadRight(labelWidth));
            for (int c = 0; c < Columns; c++) sb.Append(Values[r, c].ToString(format, CultureInfo.InvariantCulture).PadLeft(width));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Long format, one cell per line: <c>row,column,value</c> with the axis names as header.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder($"{Csv.Field(RowAxis)},{Csv.Field(ColumnAxis)},{Csv.Field(Title)}\n");
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
                sb.Append(Csv.Field(RowLabels[r])).Append(',').Append(Csv.Field(ColumnLabels[c])).Append(',')
                  .Append(Values[r, c].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Renders a PNG with labelled axes, a colour bar, and the value in each cell when the grid is small enough to read.</summary>
    public void SavePng(string path) => HeatmapPlot.Save(this, path);

    static string Fit(string s, int max) => s.Length <= max ? s : s[..Math.Max(1, max - 1)] + "…";
}
