using System.Globalization;
using System.Text;
using Glassbox.Attribution;
using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Circuits;

/// <summary>
/// A node of the information-flow graph: the residual stream x^l_i entering block l (l = L is the output) or x^mid_i inside it.
/// </summary>
public sealed record FlowNode(string Id, int Layer, int Position, bool Mid, string Token);

/// <summary>
/// An edge into <paramref name="To"/>: <c>attn</c> (from x^l_j, summed over heads), <c>residual</c>, <c>mlp</c>, or <c>head</c>
/// (head h's share of the attention edge from the same source: a sub-edge, so the heads of an edge sum to it).
/// </summary>
public sealed record FlowEdge(string From, string To, string Kind, int Layer, int? Head, double Importance);

/// <summary>
/// Information flow routes (Ferrando &amp; Voita 2024, arXiv 2403.00824), weighted as the LM Transparency Tool does: from one
/// forward pass, a node's value <c>y = Σ_k z_k</c> is split into parts, each weighted <c>e_k = p_k / Σ p</c> with the ALTI-style
/// proximity <c>p_k = max(ε, ‖y‖₁ − ‖y − z_k‖₁)</c>. Into x^mid_i the parts are every head's write from every source,
/// <c>A^h_ij v^h_j W_O^h</c>, and the residual x^l_i; the attention edge from x^l_j is the sum of its heads' shares, and each head
/// above τ is kept as a sub-edge. Into x^{l+1}_i the parts are the residual x^mid_i and the MLP output.
/// Starting at the prediction's node x^L_t, edges with <c>e_k &gt; τ</c> are kept and their sources visited, top-down.
/// The floor ε (as in the LM Transparency Tool) shares a node equally between parts that all cancel each other instead of
/// ending the route there. A write that shrinks the residual (a head suppressing a candidate already in the stream) has
/// zero proximity whatever its effect on the prediction: the routes show what builds a representation, not what suppresses it.
/// Attention-only and parallel (GPT-NeoX) blocks have no x^mid node: attention, residual and MLP all enter x^{l+1}.
/// </summary>
public sealed class InformationFlowRoutes : IReport
{
    /// <summary>The paper's default threshold.</summary>
    public const double DefaultThreshold = 0.04;
    /// <summary>The LM Transparency Tool's floor on a part's proximity.</summary>
    const double ProximityFloor = 1e-5;

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
    /// <summary>[layer, head]: the largest importance of a kept sub-edge through the head (0 when it is on no route).</summary>
    public double[,] HeadImportance { get; }

    /// <summary>Heads with at least one kept sub-edge, as (layer, head).</summary>
    public IEnumerable<(int Layer, int Head)> Heads =>
        Edges.Where(e => e.Head is not null).Select(e => (e.Layer, e.Head!.Value)).Distinct().OrderBy(x => x);

    public static InformationFlowRoutes Build(HookedTransformer model, long[] tokens, double threshold = DefaultThreshold,
        bool perHead = true, Func<long, string>? label = null)
    {
        if (tokens.Length == 0) throw new GlassboxException("The prompt is empty.");
        if (!(threshold >= 0) || double.IsInfinity(threshold)) throw new GlassboxException($"The threshold τ must be a finite number ≥ 0, got {threshold}.");
        label ??= id => id.ToString();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var d = AttentionDecomposition.Run(model, tokens);
        var labels = tokens.Select(label).ToArray();
        int n = tokens.Length, L = d.Layers, H = model.Config.NHeads;
        bool HasMid(int l) => model.Blocks[l].Mlp is not null && !model.Config.ParallelAttnMlp;
        string Id(int l, int i, bool mid) => mid ? $"M{l}_{i}" : $"X{l}_{i}";

        var nodes = new Dictionary<string, FlowNode>();
        var edges = new List<FlowEdge>();
        var queue = new Queue<FlowNode>();
        void Keep(FlowEdge edge, int l, int from, bool fromMid)
        {
            edges.Add(edge);
            var id = Id(l, from, fromMid);
            if (nodes.ContainsKey(id)) return;
            var node = new FlowNode(id, l, from, fromMid, labels[from]);
            nodes[id] = node;
            queue.Enqueue(node);
        }

        var root = new FlowNode(Id(L, n - 1, false), L, n - 1, false, labels[n - 1]);
        nodes[root.Id] = root;
        queue.Enqueue(root);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (!node.Mid && node.Layer == 0) continue;
            // A node's parts are [position, head, d_model]: free them before the next node, or a long prompt's walk piles them up.
            using var step = NewDisposeScope();
            int l = node.Mid ? node.Layer : node.Layer - 1, i = node.Position;
            if (!node.Mid && HasMid(l))
            {
                var e = Importances(stack([d.ResidMid(l)[i], d.MlpOut(l)![i]]), d.ResidPost(l)[i]);
                if (e[0] > threshold) Keep(new FlowEdge(Id(l, i, true), node.Id, "residual", l, null, e[0]), l, i, true);
                if (e[1] > threshold) Keep(new FlowEdge(Id(l, i, true), node.Id, "mlp", l, null, e[1]), l, i, true);
                continue;
            }
            // Parts: (source j, head h) in row-major order, then the residual, then (parallel blocks) the MLP.
            var parts = new List<Tensor> { d.HeadTerms(l, i, 1)[0].narrow(0, 0, i + 1).flatten(0, 1), d.ResidPre(l)[i].unsqueeze(0) };
            var mlp = node.Mid ? null : d.MlpOut(l);
            if (mlp is not null) parts.Add(mlp[i].unsqueeze(0));
            var importance = Importances(cat(parts, 0), node.Mid ? d.ResidMid(l)[i] : d.ResidPost(l)[i]);
            for (int j = 0; j <= i; j++)
            {
                var heads = importance.AsSpan(j * H, H);
                double edge = 0;
                foreach (var e in heads) edge += e;
                if (edge <= threshold) continue;
                Keep(new FlowEdge(Id(l, j, false), node.Id, "attn", l, null, edge), l, j, false);
                if (!perHead) continue;
                for (int h = 0; h < H; h++)
                    if (heads[h] > threshold) edges.Add(new FlowEdge(Id(l, j, false), node.Id, "head", l, h, heads[h]));
            }
            int k = (i + 1) * H;
            if (importance[k] > threshold) Keep(new FlowEdge(Id(l, i, false), node.Id, "residual", l, null, importance[k]), l, i, false);
            if (mlp is not null && importance[k + 1] > threshold)
                Keep(new FlowEdge(Id(l, i, false), node.Id, "mlp", l, null, importance[k + 1]), l, i, false);
        }
        return new InformationFlowRoutes(threshold, perHead, labels, L, H, nodes.Values.ToList(), edges);
    }

    /// <summary>ALTI-style weights of parts [k, d_model] of y, floored at ε and normalised to sum to 1.</summary>
    static double[] Importances(Tensor parts, Tensor y)
    {
        var p = (y.abs().sum() - (y.unsqueeze(0) - parts).abs().sum(-1)).to(ScalarType.Float64).clamp_min(ProximityFloor);
        return (p / p.sum()).cpu().data<double>().ToArray();
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

    /// <summary>Graphviz DOT: one rank per layer, the output at the top, edge width by importance, colour by kind; head sub-edges dashed beside their attention edge.</summary>
    public string ToDot()
    {
        var sb = new StringBuilder("digraph information_flow_routes {\n  rankdir=BT;\n  node [shape=box, fontsize=10];\n");
        foreach (var node in Nodes)
            sb.Append($"  {node.Id} [label=\"{Escape(Describe(node.Id))}\"{(node.Mid ? ", style=dashed" : "")}];\n");
        foreach (var e in Edges)
        {
            string colour = e.Kind switch { "attn" => "blue", "head" => "purple", "mlp" => "red", _ => "gray" };
            sb.Append($"  {e.From} -> {e.To} [color={colour}, penwidth={(0.5 + 6 * e.Importance).ToString("F2", CultureInfo.InvariantCulture)}, " +
                      $"label=\"{(e.Head is { } h ? $"L{e.Layer}H{h} " : "")}{e.Importance.ToString("F2", CultureInfo.InvariantCulture)}\"{(e.Head is null ? "" : ", style=dashed")}];\n");
        }
        return sb.Append("}\n").ToString();
    }

    string Describe(string id)
    {
        var node = Nodes.First(n => n.Id == id);
        string kind = node.Mid ? $"mid{node.Layer}" : $"x{node.Layer}";
        return $"{kind} {node.Position}:{node.Token}";
    }

    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    public override string ToString() => ToText();
}
