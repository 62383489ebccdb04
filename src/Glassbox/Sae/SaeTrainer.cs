using System.Diagnostics;
using Glassbox.Features;
using Glassbox.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>Training settings; defaults follow §7.3 of the technique reference (Conerly et al. 2024; Gao et al. 2024).</summary>
public sealed record SaeTrainingOptions
{
    public int Steps { get; init; } = 2000;
    public int BatchTokens { get; init; } = 4096;
    public double LearningRate { get; init; } = 3e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Linear learning-rate warm-up over these steps.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>The learning rate decays linearly to 0 over this last fraction of the steps.</summary>
    public double DecayFraction { get; init; } = 0.2;
    /// <summary>λ of the L1 (standard, Gated) or L0 (JumpReLU) term; TopK and BatchTopK have none.</summary>
    public double SparsityCoefficient { get; init; } = 5.0;
    /// <summary>λ rises linearly from 0 over this first fraction of the steps.</summary>
    public double SparsityWarmupFraction { get; init; } = 0.05;
    public double GradClip { get; init; } = 1.0;
    /// <summary>A latent that has not fired for this many tokens is dead (TopK's aux-k then trains it).</summary>
    public long DeadTokens { get; init; } = 1_000_000;
    /// <summary>
    /// Every this many steps, resample the latents that have not fired during those steps (Bricken et al. 2023), except in
    /// the last such window; 0 (the default) never does. Suits ReLU + L1, JumpReLU and Gated; TopK and BatchTopK have aux-k.
    /// </summary>
    public int ResampleEvery { get; init; }
    /// <summary>ε of JumpReLU's straight-through estimators.</summary>
    public double JumpReluBandwidth { get; init; } = 1e-3;
    /// <summary>Start b_dec at the geometric median of the first batch's targets (TopK and BatchTopK, as Gao et al.).</summary>
    public bool GeometricMedianInit { get; init; } = true;
    public int Seed { get; init; }
    public int CheckpointEvery { get; init; }
    public string? CheckpointDirectory { get; init; }
    public int LogEvery { get; init; } = 50;
}

/// <summary>Live metrics of one step: per-token squared error, FVU and L0 of the batch, dead fraction, throughput.</summary>
public sealed record SaeTrainingProgress(int Step, int Steps, double Mse, double Fvu, double L0, double DeadFraction, double LearningRate, double TokensPerSecond);

/// <param name="Resampled">Dead latents re-initialised over the run (each resampling counted).</param>
public sealed record SaeTrainingResult(IReadOnlyList<SaeTrainingProgress> History, double TokensPerSecond, TimeSpan Elapsed, long Tokens, int Resampled)
{
    public SaeTrainingProgress Final => History[^1];
}

/// <summary>
/// Trains an SAE on batches of activations: Adam, linear learning-rate warm-up and decay over the last 20 %, λ warm-up,
/// gradient clipping, decoder rows at unit norm (gradient parallel to each row removed, then renormalised) for the
/// architectures that need it, dead-latent tracking and optional resampling, periodic checkpoints; deterministic given the seed and batches.
/// </summary>
public static class SaeTrainer
{
    /// <summary>
    /// Initialises an SAE for <paramref name="config"/> with the seed, trains it on the store, and folds the store's
    /// normalisation into the weights so the result reads raw activations.
    /// </summary>
    public static (SparseAutoencoder Sae, SaeTrainingResult Result) Train(SaeConfig config, ActivationStore store, SaeTrainingOptions options,
        IProgress<SaeTrainingProgress>? progress = null)
    {
        var sae = SparseAutoencoder.Initialise(config, options.Seed, store.Device, store.DType);
        try
        {
            var result = Train(sae, store.Batches(options.BatchTokens), options, progress, s => Folded(s, store));
            sae.FoldScales(store.InputScale, store.TargetScale);
            return (sae, result);
        }
        catch
        {
            sae.Dispose();
            throw;
        }
    }

    static SparseAutoencoder Folded(SparseAutoencoder sae, ActivationStore store)
    {
        var copy = SparseAutoencoder.Create(sae.Config, sae.Tensors);
        copy.FoldScales(store.InputScale, store.TargetScale);
        return copy;
    }

    /// <summary>Trains <paramref name="sae"/> in place on (input, target) batches; <paramref name="forCheckpoint"/> maps it to what a checkpoint saves.</summary>
    public static SaeTrainingResult Train(SparseAutoencoder sae, IEnumerable<(Tensor Input, Tensor Target)> batches, SaeTrainingOptions o,
        IProgress<SaeTrainingProgress>? progress = null, Func<SparseAutoencoder, SparseAutoencoder>? forCheckpoint = null)
    {
        if (o.Steps <= 0) throw new GlassboxException($"SAE training needs a positive number of steps, got {o.Steps}.");
        if (o.ResampleEvery < 0) throw new GlassboxException($"The resampling interval must be 0 (never) or a number of steps, got {o.ResampleEvery}.");
        if (sae is JumpReluSae jump) jump.StartTraining(o.JumpReluBandwidth);
        manual_seed(o.Seed);
        var parameters = sae.Parameters;
        foreach (var p in parameters) p.requires_grad_(true);
        using var optimizer = new AdamW(parameters, o.Beta1, o.Beta2, weightDecay: 0);
        using var tokensSinceFired = zeros(sae.Config.DSae, dtype: ScalarType.Int64, device: sae.Device);
        if (sae.UnitNormDecoder) NormaliseDecoder(sae);
        var history = new List<SaeTrainingProgress>();
        var sw = Stopwatch.StartNew();
        long tokens = 0, windowStart = 0;
        int resampled = 0;
        using var enumerator = batches.GetEnumerator();
        try
        {
            for (int step = 1; step <= o.Steps; step++)
            {
                using var scope = NewDisposeScope();
                if (!enumerator.MoveNext()) throw new GlassboxException("The activation batches ran out before training finished.");
                var (x, y) = enumerator.Current; // created during MoveNext, so owned by this step's scope
                if (step == 1 && o.GeometricMedianInit && sae.Config.Architecture is SaeArchitecture.TopK or SaeArchitecture.BatchTopK)
                    using (no_grad()) sae.b_dec.copy_(GeometricMedian(y));
                var state = new SaeStepState(o.SparsityCoefficient * Math.Min(1, step / Math.Max(1, o.SparsityWarmupFraction * o.Steps)),
                    tokensSinceFired >= o.DeadTokens);
                var loss = sae.Loss(x, y, state);
                optimizer.ZeroGrad();
                loss.Total.backward();
                if (sae.UnitNormDecoder) RemoveParallelGradient(sae);
                optimizer.ClipGradients(o.GradClip);
                double lr = LearningRate(step, o);
                optimizer.Step(lr);
                if (sae.UnitNormDecoder) NormaliseDecoder(sae);
                tokens += x.shape[0];
                using (no_grad())
                {
                    var fired = (loss.Activations.detach() > 0).any(0);
                    tokensSinceFired.add_(x.shape[0]).masked_fill_(fired, 0);
                }
                if (o.ResampleEvery > 0 && step % o.ResampleEvery == 0 && step + o.ResampleEvery <= o.Steps)
                {
                    // Dead: silent since the last resampling; the restarted latents get a fresh window.
                    var dead = tokensSinceFired >= tokens - windowStart;
                    resampled += DeadLatentResampling.Resample(sae, optimizer, dead, x, y);
                    tokensSinceFired.masked_fill_(dead, 0);
                    windowStart = tokens;
                }
                sae.AfterStep(x, loss);
                if (step % o.LogEvery == 0 || step == o.Steps || step == 1)
                {
                    double mse = loss.Mse.ToDouble();
                    double variance = (y - y.mean([0])).square().sum(-1).mean().ToDouble();
                    double l0 = (loss.Activations.detach() > 0).sum(-1).to(ScalarType.Float32).mean().ToDouble();
                    double dead = (tokensSinceFired >= o.DeadTokens).to(ScalarType.Float32).mean().ToDouble();
                    var report = new SaeTrainingProgress(step, o.Steps, mse, mse / variance, l0, dead, lr, tokens / sw.Elapsed.TotalSeconds);
                    history.Add(report);
                    progress?.Report(report);
                }
                if (o.CheckpointEvery > 0 && o.CheckpointDirectory is string dir && step % o.CheckpointEvery == 0)
                {
                    using var copy = forCheckpoint?.Invoke(sae) ?? SparseAutoencoder.Create(sae.Config, sae.Tensors);
                    SaeFiles.Save(copy, Path.Combine(dir, $"checkpoint_{step:D6}"));
                }
            }
        }
        finally
        {
            foreach (var p in parameters)
            {
                p.requires_grad_(false);
                p.grad?.Dispose();
            }
        }
        return new SaeTrainingResult(history, tokens / sw.Elapsed.TotalSeconds, sw.Elapsed, tokens, resampled);
    }

    /// <summary>Linear warm-up, constant, then linear decay to 0 over the last <see cref="SaeTrainingOptions.DecayFraction"/>.</summary>
    public static double LearningRate(int step, SaeTrainingOptions o)
    {
        double warm = o.WarmupSteps > 0 ? Math.Min(1, step / (double)o.WarmupSteps) : 1;
        double decayStart = o.Steps * (1 - o.DecayFraction);
        double decay = step <= decayStart ? 1 : Math.Max(0, (o.Steps - step + 1) / (o.Steps - decayStart + 1));
        return o.LearningRate * warm * decay;
    }

    static void NormaliseDecoder(SparseAutoencoder sae)
    {
        using var _ = no_grad();
        sae.W_dec.div_(sae.W_dec.norm(1, keepdim: true).clamp_min(1e-12));
    }

    /// <summary>Removes from each decoder row's gradient its component along the (unit) row, so the step keeps the norm to first order.</summary>
    static void RemoveParallelGradient(SparseAutoencoder sae)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (sae.W_dec.grad is not { } g) return;
        var w = sae.W_dec;
        g.sub_((g * w).sum(1, keepdim: true) * w);
    }

    /// <summary>Weiszfeld's iteration for the point minimising the summed Euclidean distance to the rows.</summary>
    internal static Tensor GeometricMedian(Tensor rows, int iterations = 30)
    {
        using var _ = no_grad();
        var median = rows.mean([0]);
        for (int i = 0; i < iterations; i++)
        {
            var weights = 1 / (rows - median).norm(1).clamp_min(1e-8);
            median = (rows * weights.unsqueeze(1)).sum(dim: 0) / weights.sum();
        }
        return median;
    }
}
