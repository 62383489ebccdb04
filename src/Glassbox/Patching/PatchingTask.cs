using Glassbox.Datasets;
using Glassbox.Hooks;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>
/// The input of every patching and circuit technique: clean prompts, corrupted prompts of the same shape that differ only
/// in the tokens the behaviour depends on, and the metric read at the predictions. Built from the zoo's datasets (IOI with
/// its ABC corruption, greater-than with its 01 corruption, induction with a non-repeating first half) or from user pairs.
/// Owns its token tensors: dispose it.
/// </summary>
public sealed class PatchingTask : IDisposable
{
    Tensor? cleanLogProbs;
    HookedTransformer? referenceModel;

    public PatchingTask(string name, Tensor clean, Tensor corrupted, PatchMetric metric)
    {
        if (clean.dim() != 2 || !clean.shape.SequenceEqual(corrupted.shape))
            throw new GlassboxException($"Clean and corrupted prompts must tokenise to the same shape, got [{string.Join(", ", clean.shape)}] and "
                + $"[{string.Join(", ", corrupted.shape)}]; patching compares them position by position.");
        if (metric.Targets.Any(t => t.Item < 0 || t.Item >= clean.shape[0] || t.Position < 0 || t.Position >= clean.shape[1]))
            throw new GlassboxException("A metric target lies outside the prompts.");
        Name = name;
        Clean = clean.to(ScalarType.Int64).detach().clone().DetachFromDisposeScope();
        Corrupted = corrupted.to(ScalarType.Int64).detach().clone().DetachFromDisposeScope();
        Metric = metric;
    }

    public string Name { get; }
    /// <summary>[batch, pos]</summary>
    public Tensor Clean { get; }
    /// <summary>[batch, pos], same shape as <see cref="Clean"/>.</summary>
    public Tensor Corrupted { get; }
    public PatchMetric Metric { get; }
    public long Batch => Clean.shape[0];
    public long Positions => Clean.shape[1];

    /// <summary>The same prompts measured with another metric.</summary>
    public PatchingTask With(MetricKind kind) => new(Name, Clean, Corrupted, Metric.With(kind));

    /// <summary>The metric of a run of <paramref name="tokens"/> with the hooks.</summary>
    public double Measure(HookedTransformer model, Tensor tokens, params (string Names, HookFn Fn)[] hooks)
    {
        using var scope = NewDisposeScope();
        return Evaluate(model, model.RunWithHooks(tokens, hooks)).item<double>();
    }

    /// <summary>The metric of given logits as a 0-d tensor that keeps the autograd graph.</summary>
    public Tensor Evaluate(HookedTransformer model, Tensor logits) =>
        Metric.Evaluate(logits, Metric.Kind == MetricKind.KL ? CleanLogProbs(model) : null);

    /// <summary>(M(clean), M(corrupted)) of the unpatched runs.</summary>
    public (double Clean, double Corrupted) Baselines(HookedTransformer model) => (Measure(model, Clean), Measure(model, Corrupted));

    /// <summary>
    /// <c>(M − M_corr)/(M_clean − M_corr)</c>: 0 = corrupted behaviour, 1 = clean (Zhang &amp; Nanda 2024).
    /// </summary>
    public static double Normalise(double value, double clean, double corrupted)
    {
        if (Math.Abs(clean - corrupted) < 1e-6)
            throw new GlassboxException($"The clean and corrupted metrics are equal ({clean:G6}), so effects cannot be normalised; choose a corruption that changes the behaviour.");
        return (value - corrupted) / (clean - corrupted);
    }

    Tensor CleanLogProbs(HookedTransformer model)
    {
        if (cleanLogProbs is null || !ReferenceEquals(referenceModel, model))
        {
            using var scope = NewDisposeScope();
            cleanLogProbs?.Dispose();
            using (no_grad()) cleanLogProbs = Metric.LogProbs(model.Forward(Clean)).DetachFromDisposeScope();
            referenceModel = model;
        }
        return cleanLogProbs.to(model.Device);
    }

    /// <summary>IOI prompts of the most common length (one batch), ABC corruptions, logit(IO) − logit(S) at the end.</summary>
    public static PatchingTask Ioi(IReadOnlyList<IoiPrompt> prompts, MetricKind kind = MetricKind.LogitDiff)
    {
        var group = MostCommonLength(prompts, p => p.Ids.Length, "IOI");
        var targets = group.Select((p, i) => new MetricTarget(i, p.EndPosition, [p.IoToken], [p.SToken])).ToArray();
        return new PatchingTask("ioi", Stack(group.Select(p => p.Ids)), Stack(group.Select(p => p.AbcCorruption().Ids)), new PatchMetric(kind, targets));
    }

    /// <summary>Greater-than prompts of the most common length, 01 corruptions, p(year &gt; YY) − p(year ≤ YY) at the end.</summary>
    public static PatchingTask GreaterThan(GreaterThanDataset data, IReadOnlyList<GreaterThanPrompt> prompts, MetricKind kind = MetricKind.Probability)
    {
        var group = MostCommonLength(prompts, p => p.Ids.Length, "greater-than");
        var years = data.YearTokenIds;
        var targets = group.Select((p, i) => new MetricTarget(i, p.EndPosition,
            Enumerable.Range(p.Yy + 1, 99 - p.Yy).Select(y => years[y]).ToArray(), Enumerable.Range(0, p.Yy + 1).Select(y => years[y]).ToArray())).ToArray();
        return new PatchingTask("greater-than", Stack(group.Select(p => p.Ids)), Stack(group.Select(p => p.Corruption01().Ids)), new PatchMetric(kind, targets));
    }

    /// <summary>
    /// Repeated random tokens; the corruption draws a fresh first half, so the second half is no longer a repeat. The metric
    /// is the logit of the repeated token at the last <paramref name="targetsPerSequence"/> predictions of the second half.
    /// </summary>
    public static PatchingTask Induction(InductionDataset data, int batch, int seed, int targetsPerSequence = 10, MetricKind kind = MetricKind.LogitDiff)
    {
        var clean = data.Generate(batch, seed);
        var fresh = data.Generate(batch, seed + 1);
        int first = data.FirstHalfStart, T = data.HalfLength, n = data.SequenceLength;
        var corrupted = clean.Select((s, b) => s.Select((t, i) => i >= first && i < first + T ? fresh[b][i] : t).ToArray()).ToArray();
        int count = Math.Clamp(targetsPerSequence, 1, T - 1);
        var targets = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(n - 1 - count, count)
            .Select(p => new MetricTarget(b, p, [(int)clean[b][p + 1]], []))).ToArray();
        return new PatchingTask("induction", Stack(clean.Select(s => s.Select(t => (int)t).ToArray())), Stack(corrupted.Select(s => s.Select(t => (int)t).ToArray())),
            new PatchMetric(kind, targets));
    }

    /// <summary>
    /// User prompt pairs: each clean prompt, its corrupted counterpart (same number of tokens), the answer that should follow
    /// the clean prompt and the one that should not (e.g. " Mary" against " John"), read at the last position.
    /// </summary>
    public static PatchingTask Pairs(ITokenizer tokenizer, IReadOnlyList<string> clean, IReadOnlyList<string> corrupted, string answer, string? wrong,
        MetricKind kind = MetricKind.LogitDiff)
    {
        if (clean.Count == 0 || clean.Count != corrupted.Count)
            throw new GlassboxException($"Give as many corrupted prompts as clean ones (got {clean.Count} and {corrupted.Count}).");
        var c = clean.Select(t => tokenizer.Encode(t)).ToArray();
        var x = corrupted.Select(t => tokenizer.Encode(t)).ToArray();
        for (int i = 0; i < c.Length; i++)
        {
            if (c[i].Length == 0) throw new GlassboxException($"Clean prompt {i + 1} is empty.");
            if (c[i].Length != x[i].Length || c[i].Length != c[0].Length)
                throw new GlassboxException($"Prompt pair {i + 1} tokenises to {c[i].Length} clean and {x[i].Length} corrupted tokens (first clean prompt: {c[0].Length}); "
                    + "patching needs every prompt the same length.");
        }
        int good = tokenizer.SingleToken(answer, "The answer");
        int[] bad = wrong is null ? [] : [tokenizer.SingleToken(wrong, "The wrong answer")];
        if (bad is [int same] && same == good) throw new GlassboxException($"The answer and the wrong answer are the same token ('{answer}').");
        var targets = c.Select((ids, i) => new MetricTarget(i, ids.Length - 1, [good], bad)).ToArray();
        return new PatchingTask("pairs", Stack(c), Stack(x), new PatchMetric(kind, targets));
    }

    static IReadOnlyList<T> MostCommonLength<T>(IReadOnlyList<T> prompts, Func<T, int> length, string task)
    {
        if (prompts.Count == 0) throw new GlassboxException($"The {task} task has no prompts.");
        return prompts.GroupBy(length).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().ToList();
    }

    static Tensor Stack(IEnumerable<int[]> rows)
    {
        var list = rows.ToList();
        return tensor(list.SelectMany(r => r.Select(i => (long)i)).ToArray(), new long[] { list.Count, list[0].Length });
    }

    public void Dispose()
    {
        Clean.Dispose();
        Corrupted.Dispose();
        cleanLogProbs?.Dispose();
    }
}
