using Glassbox.Lens;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>
/// The lens's row × position grid (<see cref="LensReport"/>): the top token of each cell (the label) and its probability (the
/// colour), plus the report's own grids (KL to the final distribution, entropy). Rows decode <c>blocks.l.hook_resid_pre</c>
/// (through the tuned lens's translator for <c>tuned</c>); the last row is the model's output.
/// </summary>
public sealed record LensResult(string Method, IReadOnlyList<string> Tokens, Heatmap Probabilities, IReadOnlyList<IReadOnlyList<string>> TopTokens,
    IReadOnlyList<Heatmap> Heatmaps);

public static class LensView
{
    /// <summary>The methods this session offers: the logit lens always, the tuned lens when one was loaded for the model.</summary>
    public static IReadOnlyList<string> Methods(TunedLens? tuned) => tuned is null ? ["logit"] : ["logit", "tuned"];

    public static LensResult Compute(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? method, TunedLens? tuned)
    {
        method ??= "logit";
        var methods = Methods(tuned);
        if (!methods.Contains(method))
            throw new ApiException(400, $"Unknown lens method '{method}'; available: {string.Join(", ", methods)}" +
                (method == "tuned" ? " (start the server with --tuned-lens FILE for the tuned lens)." : "."));
        var options = new LensOptions { TopK = 1, Show = tokenizer.Display };
        var tokens = tensor(ids);
        var report = method == "tuned" ? tuned!.Run(model, tokens, options) : LogitLens.Run(model, tokens, options);
        var top = Enumerable.Range(0, report.Rows.Count)
            .Select(r => (IReadOnlyList<string>)Enumerable.Range(0, ids.Length).Select(i => tokenizer.Display(report[r, i].TopTokens[0])).ToArray()).ToArray();
        return new LensResult(method, ids.Select(i => tokenizer.Display((int)i)).ToArray(), report.TopProbabilityGrid, top,
            [report.KlGrid, report.EntropyGrid]);
    }
}
