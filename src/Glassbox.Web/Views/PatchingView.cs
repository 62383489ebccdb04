using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>Direct logit attribution of answer − wrong at the last position: every component's direct effect (they sum, with the constant, to the actual value) and the grids.</summary>
public sealed record DlaResult(string Answer, string Wrong, double Actual, double Constant, IReadOnlyList<ComponentEffect> Parts, IReadOnlyList<Heatmap> Heatmaps);

public sealed record ComponentEffect(string Component, double Value);

/// <summary>Activation patching of a clean/corrupted prompt pair: the metric's baselines and the sweep's grids.</summary>
public sealed record PatchingResult(string Site, string Metric, double Clean, double Corrupted, double Unpatched, IReadOnlyList<Heatmap> Heatmaps);

public static class PatchingView
{
    public static readonly IReadOnlyList<string> Sites = ["resid_pre", "attn_out", "mlp_out", "heads", "heads_by_position"];

    /// <summary>Without answers, the model's own top two predictions at the last position.</summary>
    public static DlaResult Dla(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? answer, string? wrong)
    {
        var (good, bad) = Answers(model, tokenizer, ids, answer, wrong);
        var report = DirectLogitAttribution.Run(model, tensor(ids).unsqueeze(0), [new MetricTarget(0, ids.Length - 1, [good], [bad])]);
        return new DlaResult(tokenizer.Display(good), tokenizer.Display(bad), report.Actual, report.Constant,
            report.Parts.Select(p => new ComponentEffect(p.Component, p.Value)).ToArray(), report.Heatmaps);
    }

    public static PatchingResult Patch(HookedTransformer model, ITokenizer tokenizer, string clean, string? corrupted, string? answer, string? wrong, string? site)
    {
        if (string.IsNullOrWhiteSpace(corrupted)) throw new ApiException(400, "corrupted prompt is empty.");
        if (string.IsNullOrWhiteSpace(answer)) throw new ApiException(400, "answer is empty: name the token the clean prompt should predict.");
        site ??= Sites[0];
        if (!Sites.Contains(site)) throw new ApiException(400, $"Unknown patch site '{site}'; available: {string.Join(", ", Sites)}.");
        using var task = PatchingTask.Pairs(tokenizer, [clean], [corrupted], answer, string.IsNullOrWhiteSpace(wrong) ? null : wrong);
        var report = ActivationPatching.Run(model, task, ActivationPatching.ParseSite(site));
        return new PatchingResult(site, report.Metric, report.Clean, report.Corrupted, report.Unpatched, report.Heatmaps);
    }

    static (int Good, int Bad) Answers(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? answer, string? wrong)
    {
        int? Named(string? text) => string.IsNullOrWhiteSpace(text) ? null : tokenizer.SingleToken(text, "answer");
        int? good = Named(answer), bad = Named(wrong);
        if (good is not null && good == bad) throw new ApiException(400, $"answer and wrong are the same token ('{answer}'); the logit difference would be 0 by construction.");
        if (good is null || bad is null)
        {
            using var scope = NewDisposeScope();
            var top = model.Forward(tensor(ids).unsqueeze(0))[0, -1].topk(3).indexes.data<long>().Select(i => (int)i).ToArray();
            good ??= top.First(t => t != bad);
            bad ??= top.First(t => t != good);
        }
        return (good.Value, bad.Value);
    }
}
