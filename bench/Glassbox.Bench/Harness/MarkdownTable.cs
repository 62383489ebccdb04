using System.Globalization;
using System.Text;

namespace Glassbox.Bench.Harness;

/// <summary>A GitHub-flavoured Markdown table, columns padded so that it also reads well as plain text.</summary>
public sealed class MarkdownTable(params string[] headers)
{
    readonly List<string[]> rows = new();

    public MarkdownTable Row(params string[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"The table has {headers.Length} columns, the row {cells.Length}.");
        rows.Add(cells);
        return this;
    }

    public override string ToString()
    {
        var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Append(3).Max()).ToArray();
        var sb = new StringBuilder();
        void Line(IEnumerable<string> cells) => sb.Append("| ").AppendJoin(" | ", cells).Append(" |\n");
        Line(headers.Select((h, i) => h.PadRight(widths[i])));
        Line(widths.Select(w => new string('-', w)));
        foreach (var r in rows) Line(r.Select((c, i) => c.PadRight(widths[i])));
        return sb.ToString();
    }
}

/// <summary>Number formatting for tables: invariant culture, no thousands separators (tables are parsed back by tests).</summary>
public static class Fmt
{
    /// <summary>About four significant digits, never in exponent form.</summary>
    public static string Num(double x)
    {
        if (double.IsNaN(x) || double.IsInfinity(x)) return x.ToString(CultureInfo.InvariantCulture);
        double a = Math.Abs(x);
        string f = a >= 1000 ? "F0" : a >= 100 ? "F1" : a >= 10 ? "F2" : a >= 1 ? "F3" : a >= 0.01 ? "F4" : "F6";
        return x.ToString(f, CultureInfo.InvariantCulture);
    }

    public static string Ratio(double x) => x.ToString("F3", CultureInfo.InvariantCulture);

    public static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture);

    public static string SignedMiB(long bytes) => (bytes >= 0 ? "+" : "") + MiB(bytes);
}
