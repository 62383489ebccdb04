using Glassbox.Bench.Harness;
using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Training;
using Glassbox.Training.Recipes;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 3: training throughput of each zoo recipe (forward, backward, clipping and AdamW on the recipe's own
/// batches) in tokens/s, and its FLOP rate (≈ 3 × the analytic forward FLOPs: the backward pass costs two
/// forwards) as a fraction of this machine's float32 matmul rate, measured interleaved in the same run.
/// </summary>
public sealed class TrainingSuite : ISuite
{
    public string Name => "training";
    public string Description => "zoo recipes: training tokens/s and FLOP rate ÷ matmul rate (issue 3)";

    public void Run(BenchContext ctx)
    {
        const int stepsPerSample = 5;
        int n = ctx.Quick ? 256 : 1024;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 2), full: (1, 7));
        var tokenizer = ZooVocabulary.CreateTokenizer();
        using var a = randn(n, n, generator: new Generator(1));
        using var b = randn(n, n, generator: new Generator(2));
        var variants = new List<Variant> { new($"matmul {n}×{n}", () => { using var _ = NewDisposeScope(); matmul(a, b); }) };
        var rows = new List<(string Recipe, ModelConfig Cfg, long Tokens, long Batch, long Pos)>();
        var models = new List<HookedTransformer>();
        foreach (var recipe in RecipeCatalog.All)
        {
            var cfg = recipe.Config(tokenizer);
            using var init = RandomInit.Create(cfg, 0);
            var model = new HookedTransformer(cfg, init);
            models.Add(model);
            var batch = recipe.Batch(tokenizer, 1);
            batch = batch with { Tokens = batch.Tokens.DetachFromDisposeScope(), LossMask = batch.LossMask?.DetachFromDisposeScope() };
            rows.Add((recipe.Name, cfg, batch.Tokens.numel(), batch.Tokens.shape[0], batch.Tokens.shape[1]));
            var options = recipe.Options(stepsPerSample) with { WarmupSteps = 1, EvalEvery = int.MaxValue };
            variants.Add(new(recipe.Name, () => Trainer.Train(model, _ => batch, null, options)));
        }
        ctx.Log($"training: timing {variants.Count} variants, {warmup} warm-up + {reps} rounds of {stepsPerSample} steps");
        var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("training: " + m)).ToDictionary(x => x.Name);
        foreach (var m in models) m.Dispose();

        var mm = t[$"matmul {n}×{n}"];
        double mmRate = 2.0 * n * n * n / (mm.MedianMs / 1000) / 1e9;
        var o = ctx.Out;
        o.WriteLine("## training");
        o.WriteLine();
        o.WriteLine($"Each sample is {stepsPerSample} optimiser steps on the recipe's own batch (seed 1), float32, CPU; " +
                    $"{warmup} warm-up + {t[rows[0].Recipe].Samples.Count} rounds interleaved with a {n}×{n} matmul " +
                    $"({Fmt.Num(mmRate)} GFLOP/s median). Training FLOPs are taken as 3 × the analytic forward FLOPs.");
        o.WriteLine();
        var table = new MarkdownTable("recipe", "batch × pos", "tokens/s (median)", "tokens/s (best)", "training GFLOP/s", "÷ matmul rate");
        foreach (var (recipe, cfg, tokens, batchSize, pos) in rows)
        {
            var timing = t[recipe];
            double perStep = timing.MedianMs / stepsPerSample / 1000;
            double flops = 3 * ForwardFlops.Of(cfg, batchSize, pos).Total;
            table.Row(recipe, $"{batchSize} × {pos}", Fmt.Num(tokens / perStep), Fmt.Num(tokens / (timing.MinMs / stepsPerSample / 1000)),
                Fmt.Num(flops / perStep / 1e9), Fmt.Ratio(flops / perStep / 1e9 / mmRate));
        }
        o.Write(table);
    }
}
