using System.Text.RegularExpressions;
using Glassbox.Circuits;
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
        var match = NodeId().Match(node ?? "");
        int L = model.Config.NLayers;
        if (!match.Success) throw new ApiException(400, $"node '{node}' is not a graph node id (X{{layer}}_{{position}} or M{{layer}}_{{position}}).");
        bool mid = match.Groups[1].Value == "M";
        int layer = int.Parse(match.Groups[2].Value), position = int.Parse(match.Groups[3].Value);
        if (layer > (mid ? L - 1 : L) || position >= ids.Length)
            throw new ApiException(400, $"node '{node}' is outside this prompt's graph ({L} layers, {ids.Length} positions).");
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

    [GeneratedRegex(@"^([XM])(\d{1,4})_(\d{1,6})$")]
    private static partial Regex NodeId();
}
