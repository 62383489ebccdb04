namespace Glassbox.Reporting;

public enum ReportFormat { Table, Json, Csv, Png }

/// <summary>Writes a report in the format a user asked for: to a file when given, else to the text writer.</summary>
public static class ReportWriter
{
    public static ReportFormat Parse(string text) => text.ToLowerInvariant() switch
    {
        "table" or "text" => ReportFormat.Table,
        "json" => ReportFormat.Json,
        "csv" => ReportFormat.Csv,
        "png" => ReportFormat.Png,
        _ => throw new GlassboxException($"Unknown format '{text}' (use table, json, csv or png)."),
    };

    /// <summary>Returns the files written (PNG: one per heatmap, numbered when there are several).</summary>
    public static IReadOnlyList<string> Write(IReport report, ReportFormat format, string? outPath, TextWriter output)
    {
        if (format == ReportFormat.Png) return WritePngs(report, outPath ?? throw new GlassboxException("PNG output needs --out FILE.png."));
        string text = format switch
        {
            ReportFormat.Json => report.ToJson(),
            ReportFormat.Csv => report.ToCsv(),
            _ => report.ToText(),
        };
        if (outPath is null)
        {
            output.Write(text.EndsWith('\n') ? text : text + "\n");
            return [];
        }
        EnsureDirectory(outPath);
        File.WriteAllText(outPath, text);
        return [outPath];
    }

    static IReadOnlyList<string> WritePngs(IReport report, string path)
    {
        var maps = report.Heatmaps;
        if (maps.Count == 0) throw new GlassboxException("This result has no grid to render as PNG; use --format table, json or csv.");
        EnsureDirectory(path);
        if (maps.Count == 1)
        {
            maps[0].SavePng(path);
            return [path];
        }
        string stem = Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path));
        var written = new List<string>();
        for (int i = 0; i < maps.Count; i++)
        {
            string file = $"{stem}-{i}.png";
            maps[i].SavePng(file);
            written.Add(file);
        }
        return written;
    }

    static void EnsureDirectory(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
    }
}
