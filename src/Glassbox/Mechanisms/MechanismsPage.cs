using System.Net;
using System.Text;

namespace Glassbox.Mechanisms;

/// <summary>
/// Writes a <see cref="MechanismsReport"/> into a directory: <c>report.txt</c>, <c>report.json</c>, <c>findings.csv</c>, one PNG
/// heatmap per head score, and <c>index.html</c>, a self-contained page (tables plus the PNGs beside it) that a browser or the
/// web viewer can open.
/// </summary>
public static class MechanismsPage
{
    public static IReadOnlyList<string> Write(MechanismsReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Text(string name, string content)
        {
            string path = Path.Combine(directory, name);
            File.WriteAllText(path, content);
            written.Add(path);
        }
        Text("report.txt", report.ToText());
        Text("report.json", report.ToJson());
        Text("findings.csv", report.ToCsv());
        var images = new List<(string Title, string File)>();
        foreach (var map in report.Heatmaps)
        {
            string file = Slug(map.Title) + ".png";
            map.SavePng(Path.Combine(directory, file));
            written.Add(Path.Combine(directory, file));
            images.Add((map.Title, file));
        }
        Text("index.html", Html(report, images));
        return written;
    }

    static string Slug(string title) =>
        string.Concat(title.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')).Trim('-').Replace("--", "-");

    static string E(string s) => WebUtility.HtmlEncode(s);

    static string Html(MechanismsReport r, IReadOnlyList<(string Title, string File)> images)
    {
        var sb = new StringBuilder();
        sb.Append($"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Mechanisms in {E(r.Model)}</title>\n");
        sb.Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
                  + "td.n{text-align:right;font-family:monospace}img{max-width:48%;margin:4px}</style></head><body>\n");
        sb.Append($"<h1>Mechanisms in {E(r.Model)}</h1>\n<p>{r.Layers} layers × {r.Heads} heads; probe: {r.Sequences} repeated random sequences of 2 × {r.HalfLength} tokens.</p>\n");
        sb.Append($"<p>Loss on the first half {r.InductionLoss.FirstHalf:F3}, on the repeat {r.InductionLoss.SecondHalf:F3} (drop {r.InductionLoss.Drop:F3} nats/token).");
        if (r.Ioi is not null) sb.Append($" IOI mean logit difference {r.Ioi.LogitDiff:F3} over {r.Ioi.Prompts} prompts.");
        sb.Append("</p>\n<h2>Flagged heads</h2>\n<table><tr><th>head</th><th>label</th><th>score</th><th>metric</th><th>ablation Δ</th><th>verdict</th><th>detail</th></tr>\n");
        foreach (var f in r.Findings)
            sb.Append($"<tr><td>{f.Name}</td><td>{E(f.Label)}</td><td class=n>{f.Score:F3}</td><td>{E(f.Metric)}</td><td class=n>{(f.EvidenceValue is double v ? v.ToString("F3") : "—")}</td><td>{E(f.Verdict ?? "")}</td><td>{E(f.Detail ?? "")}</td></tr>\n");
        sb.Append("</table>\n<h2>Group ablations</h2>\n<table><tr><th>label</th><th>heads</th><th>metric</th><th>clean</th><th>ablated</th><th>Δ</th></tr>\n");
        foreach (var g in r.Groups)
            sb.Append($"<tr><td>{E(g.Label)}</td><td>{string.Join(", ", g.Heads)}</td><td>{E(g.Metric)}</td><td class=n>{g.Clean:F3}</td><td class=n>{g.Ablated:F3}</td><td class=n>{g.Change:F3}</td></tr>\n");
        sb.Append("</table>\n<h2>Residual stream and neurons</h2>\n<table><tr><th>layer</th><th>sink mass</th><th>mean residual norm (input)</th><th>max |x| ÷ median</th><th>outlier dimensions</th><th>dead neurons</th></tr>\n");
        for (int l = 0; l < r.Layers; l++)
            sb.Append($"<tr><td>{l}</td><td class=n>{r.SinkMassPerLayer[l]:F3}</td><td class=n>{r.Residual.MeanNorm[l]:F3}</td><td class=n>{r.Residual.MaxRatioToMedian[l]:F1}</td>"
                      + $"<td>{string.Join(", ", r.Residual.OutlierDimensions[l])}</td><td class=n>{(r.DeadNeurons is null ? "—" : $"{r.DeadNeurons.PerLayer[l]}/{r.DeadNeurons.NeuronsPerLayer}")}</td></tr>\n");
        sb.Append($"</table>\n<p>Massive activations: {r.Residual.Massive.Count}.</p>\n<h2>Head scores</h2>\n");
        foreach (var (title, file) in images) sb.Append($"<img src=\"{E(file)}\" alt=\"{E(title)}\" title=\"{E(title)}\">\n");
        sb.Append("</body></html>\n");
        return sb.ToString();
    }
}
