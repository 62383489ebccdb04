using System.Diagnostics;
using Glassbox.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Training;

/// <summary>Optimisation settings; defaults suit the small zoo models.</summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 1000;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>The cosine schedule decays to this fraction of the peak learning rate.</summary>
    public double MinLearningRateFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.99;
    public double GradClip { get; init; } = 1.0;
    public int EvalEvery { get; init; } = 100;

    /// <summary>These options, or an error naming the first setting that cannot train (a negative rate would ascend the loss).</summary>
    public TrainingOptions Validated()
    {
        void Require(bool ok, string what) { if (!ok) throw new GlassboxException($"Invalid training options: {what}."); }
        Require(Steps >= 1, $"steps must be at least 1, got {Steps}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"learning_rate must be a positive number, got {LearningRate}");
        Require(WarmupSteps >= 0, $"warmup_steps must be ≥ 0, got {WarmupSteps}");
        Require(MinLearningRateFraction is >= 0 and <= 1, $"min_learning_rate_fraction must lie in [0, 1], got {MinLearningRateFraction}");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"weight_decay must be ≥ 0, got {WeightDecay}");
        Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, $"beta1 and beta2 must lie in [0, 1), got {Beta1} and {Beta2}");
        Require(GradClip > 0, $"grad_clip must be positive, got {GradClip}");
        Require(EvalEvery >= 1, $"eval_every must be at least 1, got {EvalEvery}");
        return this;
    }
}

/// <summary>One batch of token sequences [batch, pos]; the loss mask [batch, pos−1] (1 = predict) is optional.</summary>
public sealed record TrainingBatch(Tensor Tokens, Tensor? LossMask = null);

public sealed record TrainingProgress(int Step, int Steps, double Loss, double LearningRate, double TokensPerSecond, double? EvalLoss);

public sealed record TrainingResult(double FinalLoss, double? FinalEvalLoss, double TokensPerSecond, TimeSpan Elapsed, IReadOnlyList<TrainingProgress> History);

/// <summary>
/// Next-token training of a <see cref="HookedTransformer"/>: AdamW, linear warm-up then cosine decay,
/// global gradient clipping, periodic evaluation. Deterministic given the model's initial weights and
/// a deterministic batch source.
/// </summary>
public static class Trainer
{
    /// <param name="nextBatch">Training batch for a step.</param>
    /// <param name="evalBatch">A fixed held-out batch (or null).</param>
    public static TrainingResult Train(HookedTransformer model, Func<int, TrainingBatch> nextBatch, TrainingBatch? evalBatch,
        TrainingOptions o, IProgress<TrainingProgress>? progress = null)
    {
        o = o.Validated();
        foreach (var p in model.Parameters) p.requires_grad_(true);
        using var optimizer = new AdamW(model.Parameters, o.Beta1, o.Beta2, weightDecay: o.WeightDecay);
        var history = new List<TrainingProgress>();
        var sw = Stopwatch.StartNew();
        long tokens = 0;
        double loss = double.NaN;
        double? evalLoss = null;
        try
        {
            for (int step = 1; step <= o.Steps; step++)
            {
                using var scope = NewDisposeScope();
                var batch = nextBatch(step);
                var l = Loss(model, batch);
                optimizer.ZeroGrad();
                l.backward();
                optimizer.ClipGradients(o.GradClip);
                double lr = LearningRate(step, o);
                optimizer.Step(lr);
                loss = l.ToDouble();
                tokens += batch.Tokens.numel();
                if (evalBatch is not null && (step % o.EvalEvery == 0 || step == o.Steps)) evalLoss = Evaluate(model, evalBatch);
                var report = new TrainingProgress(step, o.Steps, loss, lr, tokens / sw.Elapsed.TotalSeconds, evalLoss);
                if (step % o.EvalEvery == 0 || step == o.Steps) history.Add(report);
                progress?.Report(report);
            }
        }
        finally
        {
            foreach (var p in model.Parameters)
            {
                p.requires_grad_(false);
                p.grad?.Dispose();
            }
        }
        return new TrainingResult(loss, evalLoss, tokens / sw.Elapsed.TotalSeconds, sw.Elapsed, history);
    }

    /// <summary>Linear warm-up to the peak, then cosine decay to <see cref="TrainingOptions.MinLearningRateFraction"/> of it.</summary>
    public static double LearningRate(int step, TrainingOptions o)
    {
        if (step <= o.WarmupSteps) return o.LearningRate * step / Math.Max(1, o.WarmupSteps);
        double progress = (step - o.WarmupSteps) / (double)Math.Max(1, o.Steps - o.WarmupSteps);
        double min = o.MinLearningRateFraction;
        return o.LearningRate * (min + (1 - min) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>Mean cross-entropy of next-token predictions (over masked positions when a mask is given).</summary>
    public static Tensor Loss(HookedTransformer model, TrainingBatch batch)
    {
        var logits = model.Forward(batch.Tokens);
        long b = logits.shape[0], p = logits.shape[1], vocab = logits.shape[2];
        var predicted = logits[.., ..^1].reshape(b * (p - 1), vocab);
        var targets = batch.Tokens.to(model.Device)[.., 1..].reshape(b * (p - 1));
        if (batch.LossMask is null) return nn.functional.cross_entropy(predicted, targets);
        var perToken = nn.functional.cross_entropy(predicted, targets, reduction: nn.Reduction.None);
        var mask = batch.LossMask.to(perToken.dtype, model.Device).reshape(b * (p - 1));
        return (perToken * mask).sum() / mask.sum().clamp_min(1);
    }

    public static double Evaluate(HookedTransformer model, TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Loss(model, batch).ToDouble();
    }
}
