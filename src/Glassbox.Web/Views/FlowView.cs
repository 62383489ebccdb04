using System.Text.RegularExpressions;
using Glassbox.Circuits;
using Glassbox.Features;
using Glassbox.Hooks;
using Glassbox.Lens;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>The information-flow graph of the last position's prediction: its nodes and kept edges, and the heads on it as a heatmap.</summary>
public sealed record FlowResult(IReadOnlyList<string> Tokens, int Layers, double Threshold, IReadOnlyList<FlowNode> Nodes, IReadOnlyList<FlowEdge> Edges,
    Heatmap HeadImportance);

/// <summary>A graph node's residual vector read through the final norm and unembedding (the LM Transparency Tool's vocabulary projection).</summary>
public sealed record NodeProjection(string Node, IReadOnlyList<Prediction> Top);

/// <summary>
/// What each head of the block that wrote a node writes at the node's position, read as logits: the head's write
/// <c>z^h_i W_O^h</c> through the final norm (scale frozen at its value on this run) and W_U, with the tokens it promotes
/// and suppresses most (the LM Transparency Tool's per-head vocabulary view).
/// </summary>
public sealed record NodeHeadWrites(string Node, int Layer, int Position, IReadOnlyList<HeadWrite> Heads);

/// <summary>One head's write at a position: its L2 norm and the tokens it promotes (top) and suppresses (bottom) most, in logits.</summary>
public sealed record HeadWrite(int Head, double Norm, IReadOnlyList<TokenScore> Promoted, IReadOnlyList<TokenScore> Suppressed);

public static partial class FlowView
{
    public static FlowResult Compute(HookedTransformer model, ITokenizer tokenizer, long[] ids, double? threshold)
    {
        double tau = threshold ?? InformationFlowRoutes.DefaultThreshold;
        if (!(tau > 0 && tau < 1)) throw new ApiException(400, $"threshold must be between 0 and 1, got {tau}.");
        var routes = InformationFlowRoutes.Build(model, ids, tau, label: id => tokenizer.Display((int)id));
        return new FlowResult(routes.Tokens, model.Config.NLayers, tau, routes.Nodes, routes.Edges, routes.HeadGrid);
    }

    /// <summary>Node ids as the graph names them: <c>X{l}_{i}</c> (residual entering block l; l = L is the final residual) or <c>M{l}_{i}</c> (after block l's attention).</summary>
    public static NodeProjection Project(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? node, int top)
    {
        var (mid, layer, position) = ParseNode(model, ids, node);
        int L = model.Config.NLayers;
        string hook = mid ? HookNames.Full("resid_mid", layer) : layer < L ? HookNames.Full("resid_pre", layer) : HookNames.Full("resid_post", L - 1);
        var (_, cache) = model.RunWithCache(tensor(ids).unsqueeze(0), hook);
        using (cache)
        {
            var probs = LogitLens.Decode(model, cache[hook][0, position]).to(ScalarType.Float64).softmax(-1);
            var (values, indices) = probs.topk(top);
            var p = values.cpu().data<double>().ToArray();
            var t = indices.cpu().data<long>().ToArray();
            return new NodeProjection(node!, t.Select((id, k) => new Prediction((int)id, tokenizer.Display((int)id), p[k])).ToArray());
        }
    }

    /// <summary>
    /// The heads of the block whose attention wrote the node (block l for <c>M{l}_i</c>, block l − 1 for <c>X{l}_i</c>): each
    /// head's <c>hook_result</c> at the node's position divided by the final norm's scale there, projected by the shared
    /// <see cref="VocabularyProjection.Writes"/>, so a score is <c>z^h_i W_O^h · DirectLogitAttribution.ReadDirection(W_U[:, t], σ)</c>.
    /// </summary>
    public static NodeHeadWrites HeadWrites(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? node, int top)
    {
        var (mid, nodeLayer, position) = ParseNode(model, ids, node);
        int layer = mid ? nodeLayer : nodeLayer - 1;
        if (layer < 0) throw new ApiException(400, $"node '{node}' is the embedding; no attention head writes into it.");
        string result = HookNames.Full("result", layer), scale = "ln_final.hook_scale";
        var (_, cache) = model.RunWithCache(tensor(ids, device: model.W_E.device).unsqueeze(0), $"{result},{scale}");
        using (cache)
        {
            var writes = cache[result][0, position];                                        // [head, d_model]
            var norms = writes.to(ScalarType.Float64).norm(-1, false).cpu().data<double>().ToArray();
            var heads = Enumerable.Range(0, model.Config.NHeads).ToArray();
            var projections = VocabularyProjection.Writes(model, writes / cache[scale][0, position], heads, top, tokenizer);
            return new NodeHeadWrites(node!, layer, position,
                projections.Select(p => new HeadWrite(p.Unit, norms[p.Unit], p.Top, p.Bottom)).ToArray());
        }
    }

    static (bool Mid, int Layer, int Position) ParseNode(HookedTransformer model, long[] ids, string? node)
    {
        var match = NodeId().Match(node ?? "");
        int L = model.Config.NLayers;
        if (!match.Success) throw new ApiException(400, $"node '{node}' is not a graph node id (X{{layer}}_{{position}} or M{{layer}}_{{position}}).");
        bool mid = match.Groups[1].Value == "M";
        int layer = int.Parse(match.Groups[2].Value), position = int.Parse(match.Groups[3].Value);
        if (layer > (mid ? L - 1 : L) || position >= ids.Length)
            throw new ApiException(400, $"node '{node}' is outside this prompt's graph ({L} layers, {ids.Length} positions).");
        return (mid, layer, position);
    }

    [GeneratedRegex(@"^([XM])(\d{1,4})_(\d{1,6})$")]
    private static partial Regex NodeId();
}
