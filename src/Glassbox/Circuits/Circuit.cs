using System.Globalization;
using System.Text;
using Glassbox.Reporting;

namespace Glassbox.Circuits;

/// <summary>
/// A circuit: the edges of a <see cref="ComputationalGraph"/> a discovery method kept, every edge's score under that method
/// (EAP: estimated effect of patching it; ACDC: the increase in the loss when it was tested), and its faithfulness.
/// Prints a table, exports JSON (nodes and edges, for the web viewer) and Graphviz DOT.
/// </summary>
public sealed record Circuit(string Method, string Metric, ComputationalGraph Graph, double[] Scores, bool[] Kept, Faithfulness? Faithfulness) : IReport
{
    public IEnumerable<Edge> Edges => Graph.Edges.Where(e => Kept[e.Index]);

    public bool Contains(string from, string to) => Edges.Any(e => e.From.Name == from && e.To.Name == to);

    /// <summary>The nodes the circuit's edges touch (writers, and the heads, MLPs and logits that read).</summary>
    public IReadOnlyList<string> Nodes => Edges.SelectMany(e => new[] { e.From.Name, ComputationalGraph.Owner(e.To) }).Distinct().ToList();

    /// <summary>Writer × reader scores (NaN where there is no edge), rendered as a heatmap.</summary>
    public Heatmap ScoreGrid
    {
        get
        {
            var values = new double[Graph.Writers.Count, Graph.Readers.Count];
            for (int w = 0; w < values.GetLength(0); w++) for (int r = 0; r < values.GetLength(1); r++) values[w, r] = double.NaN;
            foreach (var e in Graph.Edges) values[e.From.Index, e.To.Index] = Scores[e.Index];
            return new Heatmap($"{Method} edge scores ({Metric})", "writer", "reader",
                Graph.Writers.Select(w => w.Name).ToArray(), Graph.Readers.Select(r => r.Name).ToArray(), values).Validated();
        }
    }

    public IReadOnlyList<Heatmap> Heatmaps => [ScoreGrid];

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder($"{Method} circuit on {Metric}: {Edges.Count()} of {Graph.Edges.Count} edges, {Nodes.Count} nodes\n");
        if (Faithfulness is { } f)
            sb.Append(c, $"faithfulness {f.Normalised:P1} (M(C) {f.Circuit:F4}, M(G) {f.Full:F4}, M(∅) {f.Empty:F4}; KL(G‖C) {f.KlFromFull:F4})\n");
        sb.Append("\nedge                             score\n");
        foreach (var e in Edges.OrderByDescending(e => Math.Abs(Scores[e.Index])))
            sb.Append(c, $"{e.Name,-28} {Scores[e.Index],10:F4}\n");
        return sb.ToString();
    }

    public string ToCsv() => "from,to,score,kept\n" + string.Concat(Graph.Edges.Select(e =>
        $"{Csv.Field(e.From.Name)},{Csv.Field(e.To.Name)},{Scores[e.Index].ToString("R", CultureInfo.InvariantCulture)},{(Kept[e.Index] ? 1 : 0)}\n"));

    public string ToJson() => ReportJson.Serialize(new
    {
        method = Method, metric = Metric, totalEdges = Graph.Edges.Count,
        faithfulness = Faithfulness is { } f ? new { normalised = f.Normalised, circuit = f.Circuit, full = f.Full, empty = f.Empty, klFromFull = f.KlFromFull } : null,
        nodes = Nodes,
        edges = Edges.Select(e => new { from = e.From.Name, to = ComputationalGraph.Owner(e.To), input = e.To.Group.Port is 'q' or 'k' or 'v' ? e.To.Group.Port.ToString() : null, score = Scores[e.Index] }),
    });

    /// <summary>Graphviz DOT: writers and readers by layer, q/k/v edges coloured and labelled.</summary>
    public string ToDot()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("digraph circuit {\n  rankdir=BT;\n  node [shape=box, style=rounded];\n");
        foreach (var n in Nodes) sb.Append($"  \"{n}\";\n");
        foreach (var e in Edges)
        {
            char port = e.To.Group.Port;
            string color = port switch { 'q' => "blue", 'k' => "green", 'v' => "red", _ => "black" };
            string label = port is 'q' or 'k' or 'v' ? port.ToString() : "";
            sb.Append(c, $"  \"{e.From.Name}\" -> \"{ComputationalGraph.Owner(e.To)}\" [color={color}, label=\"{label}\", tooltip=\"{Scores[e.Index]:F4}\"];\n");
        }
        return sb.Append("}\n").ToString();
    }

    public override string ToString() => ToText();
}
