using System.Globalization;
using System.Text;
using Glassbox.Attribution;
using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Circuits;

/// <summary>
/// A node of the information-flow graph: the residual stream x^l_i entering block l (l = L is the output), x^mid_i inside it,
/// or (with <paramref name="Head"/>) head h's output at position i in block l.
/// </summary>
public sealed record FlowNode(string Id, int Layer, int Position, bool Mid, string Token, int? Head = null);

/// <summary>
/// An edge into <paramref name="To"/>: <c>attn</c> (from x^l_j, summed over heads), <c>residual</c>, <c>mlp</c>, or <c>head</c>
/// (head h's whole output at the node's position, a finer split of the same attention update).
/// </summary>
public sealed record FlowEdge(string From, string To, string Kind, int Layer, int? Head, double Importance);

/// <summary>
/// Information flow routes (Ferrando &amp; Voita 2024, arXiv 2403.00824): from one forward pass, every node's value
/// <c>y = Σ_k z_k</c> is split into its incoming edges (per-source attention terms summed over heads and the residual into x^mid;
/// the residual and the MLP into x^{l+1}), each weighted ALTI-style, <c>e_k = p_k / Σ p</c>, <c>p_k = max(0, ‖y‖₁ − ‖y − z_k‖₁)</c>.
/// Starting at the prediction's node x^L_t, edges with <c>e_k &gt; τ</c> are kept and their sources visited, top-down. With heads,
/// each kept x^mid node's attention update is also split by head (the heads' outputs and the residual, weighted the same way) and
/// heads above τ are kept as head nodes.
/// Attention-only and parallel (GPT-NeoX) blocks have no x^mid node: attention, residual and MLP all enter x^{l+1}.
/// </summary>
public sealed class InformationFlowRoutes : IReport
{
    /// <summary>The paper's default threshold.</summary>
    public const double DefaultThreshold = 0.04;

    InformationFlowRoutes(double threshold, bool perHead, IReadOnlyList<string> tokens, int layers, int heads, List<FlowNode> nodes, List<FlowEdge> edges)
    {
        Threshold = threshold;
        PerHead = perHead;
        Tokens = tokens;
        Nodes = nodes;
        Edges = edges;
        HeadImportance = new double[layers, heads];
        foreach (var e in edges)
            if (e.Head is { } h) HeadImportance[e.Layer, h] = Math.Max(HeadImportance[e.Layer, h], e.Importance);
    }

    public double Threshold { get; }
    public bool PerHead { get; }
    public IReadOnlyList<string> Tokens { get; }
    /// <summary>The kept nodes, the root (x^L_t) first.</summary>
    public IReadOnlyList<FlowNode> Nodes { get; }
    /// <summary>The kept edges, each with importance above the threshold.</summary>
    public IReadOnlyList<FlowEdge> Edges { get; }
    /// <summary>[layer, head]: the largest importance of a kept edge through the head (0 when it is on no route).</summary>
    public double[,] HeadImportance { get; }

    /// <summary>Heads with at least one kept edge, as (layer, head).</summary>
    public IEnumerable<(int Layer, int Head)> Heads =>
        Edges.Where(e => e.Head is not null).Select(e => (e.Layer, e.Head!.Value)).Distinct().OrderBy(x => x);

    public static InformationFlowRoutes Build(HookedTransformer model, long[] tokens, double threshold = DefaultThreshold,
        bool perHead = true, Func<long, string>? label = null)
    {
        if (tokens.Length == 0) throw new GlassboxException("The prompt is empty.");
        label ??= id => id.ToString();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var d = AttentionDecomposition.Run(model, tokens);
        var labels = tokens.Select(label).ToArray();
        int n = tokens.Length, L = d.Layers;
        bool HasMid(int l) => model.Blocks[l].Mlp is not null && !model.Config.ParallelAttnMlp;
        string Id(int l, int i, bool mid) => mid ? $"M{l}_{i}" : $"X{l}_{i}";

        var nodes = new Dictionary<string, FlowNode>();
        var edges = new List<FlowEdge>();
        var queue = new Queue<FlowNode>();
        void Visit(int l, int i, bool mid)
        {
            var id = Id(l, i, mid);
            if (nodes.ContainsKey(id)) return;
            var node = new FlowNode(id, l, i, mid, labels[i]);
            nodes[id] = node;
            queue.Enqueue(node);
        }

        Visit(L, n - 1, mid: false);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (!node.Mid && node.Layer == 0) continue;
            int l = node.Mid ? node.Layer : node.Layer - 1, i = node.Position;
            var parts = new List<(Tensor Part, string Kind, int From, int? Head, bool FromMid)>();
            Tensor y;
            if (!node.Mid && HasMid(l))
            {
                y = d.ResidPost(l)[i];
                parts.Add((d.ResidMid(l)[i], "residual", i, null, true));
                parts.Add((d.MlpOut(l)![i], "mlp", i, null, true));
            }
            else
            {
                y = node.Mid ? d.ResidMid(l)[i] : d.ResidPost(l)[i];
                var terms = d.Terms(l, i, 1)[0];
                for (int j = 0; j <= i; j++) parts.Add((terms[j], "attn", j, null, false));
                parts.Add((d.ResidPre(l)[i], "residual", i, null, false));
                if (!node.Mid && d.MlpOut(l) is { } mlp) parts.Add((mlp[i], "mlp", i, null, false));
            }
            var importance = Importances(parts.Select(x => x.Part), y);
            for (int k = 0; k < parts.Count; k++)
            {
                if (importance[k] <= threshold) continue;
                var (_, kind, from, head, fromMid) = parts[k];
                edges.Add(new FlowEdge(Id(l, from, fromMid), node.Id, kind, l, head, importance[k]));
                Visit(l, from, fromMid);
            }
            if (perHead && parts.Any(x => x.Kind == "attn"))
            {
                var heads = d.HeadTerms(l, i, 1)[0].sum([0]);
                var headImportance = Importances(Enumerable.Range(0, model.Config.NHeads).Select(h => heads[h]).Append(d.ResidPre(l)[i]), y);
                for (int h = 0; h < model.Config.NHeads; h++)
                {
                    if (headImportance[h] <= threshold) continue;
                    var head = new FlowNode($"H{l}_{h}_{i}", l, i, false, labels[i], h);
                    nodes[head.Id] = head;
                    edges.Add(new FlowEdge(head.Id, node.Id, "head", l, h, headImportance[h]));
                }
            }
        }
        return new InformationFlowRoutes(threshold, perHead, labels, L, model.Config.NHeads, nodes.Values.ToList(), edges);
    }

    /// <summary>ALTI-style weights of parts z_k of y, normalised to sum to 1.</summary>
    static double[] Importances(IEnumerable<Tensor> parts, Tensor y)
    {
        var p = Alti.Proximity(stack(parts), y.unsqueeze(0)).to(ScalarType.Float64);
        return (p / p.sum().clamp_min(1e-30)).cpu().data<double>().ToArray();
    }

    public Heatmap HeadGrid => new Heatmap($"information flow routes: head importance (τ = {Threshold})", "layer", "head",
        Heatmap.Numbered("L", HeadImportance.GetLength(0)), Heatmap.Numbered("H", HeadImportance.GetLength(1)), HeadImportance).Validated();

    public IReadOnlyList<Heatmap> Heatmaps => [HeadGrid];

    public string ToText()
    {
        var sb = new StringBuilder($"information flow routes from position {Tokens.Count - 1} ({Tokens[^1]}), τ = {Threshold}: {Nodes.Count} nodes, {Edges.Count} edges\n");
        sb.Append($"{"layer",5} {"kind",-8} {"head",4} {"from",-22} {"to",-22} {"importance",10}\n");
        foreach (var e in Edges.OrderByDescending(e => e.Layer).ThenByDescending(e => e.Importance))
            sb.Append($"{e.Layer,5} {e.Kind,-8} {(e.Head is { } h ? "H" + h : ""),4} {Describe(e.From),-22} {Describe(e.To),-22} {e.Importance.ToString("F3", CultureInfo.InvariantCulture),10}\n");
        sb.Append("heads on the routes: ").Append(string.Join(", ", Heads.Select(h => $"L{h.Layer}H{h.Head}"))).Append('\n');
        return sb.Append(HeadGrid.ToTable()).ToString();
    }

    public string ToCsv() => "layer,kind,head,from,to,importance\n" + string.Concat(Edges.Select(e =>
        $"{e.Layer},{e.Kind},{e.Head?.ToString() ?? ""},{e.From},{e.To},{e.Importance.ToString("R", CultureInfo.InvariantCulture)}\n"));

    public string ToJson() => ReportJson.Serialize(new
    {
        threshold = Threshold,
        perHead = PerHead,
        tokens = Tokens,
        nodes = Nodes,
        edges = Edges,
        heads = Heads.Select(h => $"L{h.Layer}H{h.Head}").ToArray(),
        headImportance = HeadGrid.RowsArray,
    });

    /// <summary>Graphviz DOT: one rank per layer, the output at the top, edge width by importance, colour by kind.</summary>
    public string ToDot()
    {
        var sb = new StringBuilder("digraph information_flow_routes {\n  rankdir=BT;\n  node [shape=box, fontsize=10];\n");
        foreach (var node in Nodes)
            sb.Append($"  {node.Id} [label=\"{Escape(Describe(node.Id))}\"{(node.Mid ? ", style=dashed" : node.Head is not null ? ", shape=ellipse" : "")}];\n");
        foreach (var e in Edges)
        {
            string colour = e.Kind switch { "attn" => "blue", "head" => "purple", "mlp" => "red", _ => "gray" };
            sb.Append($"  {e.From} -> {e.To} [color={colour}, penwidth={(0.5 + 6 * e.Importance).ToString("F2", CultureInfo.InvariantCulture)}, " +
                      $"label=\"{e.Importance.ToString("F2", CultureInfo.InvariantCulture)}\"];\n");
        }
        return sb.Append("}\n").ToString();
    }

    string Describe(string id)
    {
        var node = Nodes.First(n => n.Id == id);
        string kind = node.Head is { } h ? $"L{node.Layer}H{h}" : node.Mid ? $"mid{node.Layer}" : $"x{node.Layer}";
        return $"{kind} {node.Position}:{node.Token}";
    }

    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    public override string ToString() => ToText();
}
