using Glassbox.Attribution;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>
/// One input-attribution method's scores of every prompt token for a target token at the last position (the model's own
/// top prediction unless the client names one): the target × source grid and, for methods with layers, layer × source.
/// </summary>
public sealed record AttributionViewResult(string Method, string Description, string Target, int TargetId, IReadOnlyList<Heatmap> Heatmaps,
    double? TargetValue, double? CompletenessError);

public static class AttributionView
{
    public const string DefaultMethod = "input_x_gradient";

    /// <param name="words">Sum each word's subword columns into one (<see cref="AttributionResult.AggregateSources"/>).</param>
    public static AttributionViewResult Compute(HookedTransformer model, ITokenizer tokenizer, long[] ids, string? method, string? target, bool words = false)
    {
        var attribution = AttributionMethods.Create(method ?? DefaultMethod);
        long targetId = target is null ? TopPrediction(model, ids) : tokenizer.SingleToken(target, "target");
        var result = Attributor.Run(model, attribution, ids, [targetId], new AttributionTarget(targetId), id => tokenizer.Display((int)id));
        if (words) result = result.AggregateWords(tokenizer, ids);
        var step = result.Steps[0];
        return new AttributionViewResult(result.Method, attribution.Description, tokenizer.Display((int)targetId), (int)targetId,
            result.Heatmaps, step.TargetValue, step.CompletenessError);
    }

    static long TopPrediction(HookedTransformer model, long[] ids)
    {
        using var scope = NewDisposeScope();
        return model.Forward(tensor(ids).unsqueeze(0))[0, -1].argmax().item<long>();
    }
}
