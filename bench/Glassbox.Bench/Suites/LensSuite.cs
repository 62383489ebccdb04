using Glassbox.Bench.Harness;
using Glassbox.Lens;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 6: tuned-lens training throughput. One sample trains a lens from scratch (caching the residual streams of the
/// token batch, then the optimiser steps on random mini-batches of cached positions); its rate is the tokens the steps
/// consume per second. The baseline, interleaved in the same run, is a plain forward pass over the same batch.
/// </summary>
public sealed class LensSuite : ISuite
{
    public string Name => "lens";
    public string Description => "tuned-lens training tokens/s ÷ forward tokens/s (issue 6)";

    public const string Forward = "forward";
    public const string Training = "tuned-lens training";
    public const string Ratio = "tuned-lens training tokens/s ÷ forward tokens/s";

    /// <summary>A stories260K-sized model scaled up (llama-style, d 256, 4 layers, vocab 4096): the lens's cost is L·(d² + d·V) per token.</summary>
    static ModelConfig Small { get; } = new()
    {
        Architecture = "llama-small", NLayers = 4, DModel = 256, NHeads = 8, NKvHeads = 4, DMlp = 688, VocabSize = 4096, ContextLength = 256,
        Norm = NormKind.RmsNorm, Positional = PositionalKind.Rotary, RotaryLayout = RotaryLayout.Halves, Act = Activation.Silu, GatedMlp = true,
    };

    public void Run(BenchContext ctx)
    {
        bool quick = ctx.Quick;
        var cfg = (quick ? BenchModels.Tiny : Small).Validated();
        int batch = quick ? 4 : 8, pos = quick ? 32 : 128, steps = quick ? 5 : 20, batchTokens = quick ? 64 : 512;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 2), full: (1, 5));
        using var model = BenchModels.Create(cfg);
        using var tokens = BenchModels.Tokens(cfg, batch, pos);
        var training = new TunedLensTraining { Steps = steps, BatchTokens = batchTokens };
        var variants = new List<Variant>
        {
            new(Forward, () => { using var _ = NewDisposeScope(); using var __ = no_grad(); model.Forward(tokens); }),
            new(Training, () => TunedLens.Train(model, tokens, training).Dispose()),
        };
        ctx.Log($"lens: {cfg.Architecture}, {warmup} warm-up + {reps} rounds");
        var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("lens: " + m)).ToDictionary(x => x.Name);
        double forwardRate = batch * pos / (t[Forward].MedianMs / 1000);
        double trainingRate = (double)steps * batchTokens / (t[Training].MedianMs / 1000);

        var o = ctx.Out;
        o.WriteLine("## lens");
        o.WriteLine();
        o.WriteLine($"{cfg.Architecture} (random weights: {cfg.NLayers} layers, d_model {cfg.DModel}, vocab {cfg.VocabSize}), float32, CPU. " +
                    $"A training sample caches {batch} × {pos} tokens and runs {steps} steps of {batchTokens} positions through all {cfg.NLayers} translators; " +
                    $"its rate counts the {steps * batchTokens} positions the steps consume. Forward: the same {batch} × {pos} batch. " +
                    $"{warmup} warm-up + {t[Forward].Samples.Count} interleaved rounds.");
        o.WriteLine();
        var table = new MarkdownTable("variant", "median ms", "best ms", "tokens/s (median)");
        table.Row(Forward, Fmt.Num(t[Forward].MedianMs), Fmt.Num(t[Forward].MinMs), Fmt.Num(forwardRate));
        table.Row(Training, Fmt.Num(t[Training].MedianMs), Fmt.Num(t[Training].MinMs), Fmt.Num(trainingRate));
        table.Row(Ratio, Fmt.Ratio(trainingRate / forwardRate), "", "");
        o.Write(table);
    }
}
