using Glassbox.Hooks;
using Glassbox.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Datasets;

/// <summary>The behaviours the zoo models are trained for, measured the same way everywhere (model cards, tests, ablations).</summary>
public static class TaskMetrics
{
    /// <summary>Mean next-token loss on the first and on the repeated half of induction sequences (predictions of tokens r_2..r_T and r_1..r_T of each half).</summary>
    public static (double FirstHalf, double SecondHalf) InductionLosses(HookedTransformer model, InductionDataset data, long[][] sequences,
        params (string Names, HookFn Fn)[] hooks)
    {
        using var scope = NewDisposeScope();
        var tokens = tensor(sequences.SelectMany(s => s).ToArray(), new long[] { sequences.Length, data.SequenceLength });
        var logp = model.RunWithHooks(tokens, hooks).log_softmax(-1);
        var nll = -logp[.., ..^1].gather(2, tokens[.., 1..].unsqueeze(2)).squeeze(2); // [batch, pos−1]: predicting token i+1 at i
        int a = data.FirstHalfStart, b = data.SecondHalfStart, T = data.HalfLength;
        // Position i predicts token i+1: the first half's unpredictable tokens are a+1..a+T−1, the repeat's are b..b+T−1.
        double first = nll[.., a..(a + T - 1)].mean().ToDouble();
        double second = nll[.., (b - 1)..(b + T - 1)].mean().ToDouble();
        return (first, second);
    }

    /// <summary>IOI: fraction of prompts with logit(IO) &gt; logit(S) at the end position, and the mean logit difference.</summary>
    public static (double Accuracy, double MeanLogitDiff) Ioi(HookedTransformer model, IReadOnlyList<IoiPrompt> prompts, params (string Names, HookFn Fn)[] hooks)
    {
        var diffs = IoiLogitDiffs(model, prompts, hooks);
        return (diffs.Count(d => d > 0) / (double)diffs.Length, diffs.Average());
    }

    /// <summary>logit(IO) − logit(S) at each prompt's end position (prompts of equal length run as one batch).</summary>
    public static double[] IoiLogitDiffs(HookedTransformer model, IReadOnlyList<IoiPrompt> prompts, params (string Names, HookFn Fn)[] hooks)
    {
        var result = new double[prompts.Count];
        foreach (var group in prompts.Select((p, i) => (p, i)).GroupBy(x => x.p.Ids.Length))
        {
            using var scope = NewDisposeScope();
            var items = group.ToArray();
            var tokens = tensor(items.SelectMany(x => x.p.Ids.Select(id => (long)id)).ToArray(), new long[] { items.Length, group.Key });
            var logits = model.RunWithHooks(tokens, hooks).to(ScalarType.Float64, CPU);
            for (int k = 0; k < items.Length; k++)
            {
                var (p, i) = items[k];
                var end = logits[k, p.EndPosition];
                result[i] = end[p.IoToken].item<double>() - end[p.SToken].item<double>();
            }
        }
        return result;
    }

    /// <summary>Greater-than: fraction of prompts with more probability on years above YY than at or below it, and the mean probability difference.</summary>
    public static (double Accuracy, double MeanProbabilityDifference) GreaterThan(HookedTransformer model, GreaterThanDataset data,
        IReadOnlyList<GreaterThanPrompt> prompts, params (string Names, HookFn Fn)[] hooks)
    {
        var diffs = GreaterThanDifferences(model, data, prompts, hooks);
        return (diffs.Count(d => d > 0) / (double)diffs.Length, diffs.Average());
    }

    public static double[] GreaterThanDifferences(HookedTransformer model, GreaterThanDataset data, IReadOnlyList<GreaterThanPrompt> prompts,
        params (string Names, HookFn Fn)[] hooks)
    {
        var result = new double[prompts.Count];
        var years = tensor(data.YearTokenIds.Select(i => (long)i).ToArray());
        foreach (var group in prompts.Select((p, i) => (p, i)).GroupBy(x => x.p.Ids.Length))
        {
            using var scope = NewDisposeScope();
            var items = group.ToArray();
            var tokens = tensor(items.SelectMany(x => x.p.Ids.Select(id => (long)id)).ToArray(), new long[] { items.Length, group.Key });
            var probs = model.RunWithHooks(tokens, hooks).softmax(-1).to(ScalarType.Float64, CPU);
            for (int k = 0; k < items.Length; k++)
            {
                var (p, i) = items[k];
                var overYears = probs[k, p.EndPosition].index_select(0, years).data<double>().ToArray();
                result[i] = GreaterThanDataset.ProbabilityDifference(overYears, p.Yy);
            }
        }
        return result;
    }
}
