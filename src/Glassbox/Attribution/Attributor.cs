using Glassbox.Models;

namespace Glassbox.Attribution;

/// <summary>
/// Step-wise attribution, as Inseq does it: for each token of a continuation, the target is that token read at the
/// position before it, and every preceding token (prompt and continuation so far) is scored.
/// </summary>
public static class Attributor
{
    /// <param name="target">The target's kind and foil; its token is replaced by each continuation token in turn.</param>
    /// <param name="label">How a token id is shown (e.g. the tokenizer's Display).</param>
    public static AttributionResult Run(HookedTransformer model, IAttributionMethod method, long[] prompt, long[] continuation,
        AttributionTarget target, Func<long, string>? label = null)
    {
        if (prompt.Length == 0) throw new GlassboxException("The prompt is empty: attribution needs at least one token to score.");
        if (continuation.Length == 0 && target.Custom is null) throw new GlassboxException("There is no target token: give a target or a continuation.");
        long[] all = [.. prompt, .. continuation];
        if (all.Length - 1 > model.Config.ContextLength)
            throw new GlassboxException($"The prompt and target have {all.Length} tokens but the model's context is {model.Config.ContextLength} tokens.");
        label ??= id => id.ToString();
        var steps = new List<StepAttribution>();
        var targets = new List<string>();
        int count = Math.Max(1, continuation.Length);
        for (int k = 0; k < count; k++)
        {
            var step = target.Custom is null ? target.For(continuation[k]) : target;
            step.Check(model.Config.VocabSize);
            steps.Add(method.Attribute(model, all[..(prompt.Length + k)], step));
            targets.Add(target.Custom is null ? label(continuation[k]) : target.CustomName!);
        }
        var sources = all[..(prompt.Length + count - 1)].Select((t, i) => $"{i}:{label(t)}").ToArray();
        string what = target.Custom is not null ? target.CustomName! :
            target.Kind.ToString().ToLowerInvariant() + (target.Foil is { } f ? $" − {label(f)}" : "");
        return new AttributionResult(method.Name, what, sources, targets, steps);
    }
}
