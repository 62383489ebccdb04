using Glassbox.Lens;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>
/// Layer × position grid of the lens: the probability of the top token (the heatmap) and that token (the cell label).
/// Row l decodes <c>blocks.l.hook_resid_pre</c>; the last row decodes the final residual, i.e. the model's output.
/// </summary>
public sealed record LensResult(string Method, IReadOnlyList<string> Tokens, Heatmap Probabilities, IReadOnlyList<IReadOnlyList<string>> TopTokens);

public static class LensView
{
    public static readonly IReadOnlyList<string> Methods = ["logit"];

    public static LensResult Compute(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? method)
    {
        method ??= "logit";
        if (!Methods.Contains(method))
            throw new ApiException(400, $"Unknown lens method '{method}'; available: {string.Join(", ", Methods)}.");
        int L = model.Config.NLayers, n = ids.Length;
        var (_, cache) = model.RunWithCache(tensor(ids).unsqueeze(0), $"blocks.*.hook_resid_pre,blocks.{L - 1}.hook_resid_post");
        using (cache)
        {
            var residuals = stack(Enumerable.Range(0, L).Select(l => cache["resid_pre", l][0]).Append(cache["resid_post", L - 1][0]).ToArray());
            var (best, index) = LogitLens.Decode(model, residuals).to(ScalarType.Float64).softmax(-1).max(-1); // [L+1, pos]
            var probs = best.cpu().data<double>().ToArray();
            var top = index.cpu().data<long>().ToArray();
            var values = new double[L + 1, n];
            var labels = new string[L + 1][];
            for (int r = 0; r <= L; r++)
            {
                labels[r] = new string[n];
                for (int c = 0; c < n; c++)
                {
                    values[r, c] = probs[r * n + c];
                    labels[r][c] = tokenizer.Display((int)top[r * n + c]);
                }
            }
            var tokens = ids.Select(i => tokenizer.Display((int)i)).ToArray();
            var rows = Enumerable.Range(0, L).Select(l => $"resid_pre {l}").Append("output").ToArray();
            var columns = tokens.Select((t, i) => $"{i}:{t}").ToArray();
            var heatmap = new Heatmap("logit lens: probability of the top token", "residual stream", "position", rows, columns, values).Validated();
            return new LensResult(method, tokens, heatmap, labels);
        }
    }
}
