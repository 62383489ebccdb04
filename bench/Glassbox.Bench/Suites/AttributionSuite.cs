using System.Diagnostics;
using Glassbox.Attribution;
using Glassbox.Bench.Harness;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 4: the cost of every attribution method for one target after a 128-token prompt on the GPT-2-small-shaped
/// random model (float32, CPU), as a multiple of one forward pass; integrated gradients' time against the same number of
/// plain forward + backward passes, interleaved so the ratio holds on a busy machine; and the peak resident memory of
/// integrated gradients and occlusion on a 1,024-token prompt with the default 1 GiB memory budget.
/// </summary>
public sealed class AttributionSuite : ISuite
{
    public string Name => "attribution";
    public string Description => "time per attribution method, IG vs plain forward+backward, peak memory at 1,024 tokens (issue 4)";

    public const string IgRatio = "integrated gradients ÷ the same number of forward+backward passes";

    public void Run(BenchContext ctx)
    {
        bool quick = ctx.Quick;
        var cfg = (quick ? BenchModels.Tiny : BenchModels.Gpt2Small).Validated();
        int pos = quick ? 32 : 128, longPos = quick ? 64 : 1024, igSteps = quick ? 4 : 16;
        ctx.Log($"attribution: building {cfg.Architecture}");
        using var model = BenchModels.Create(cfg);
        var o = ctx.Out;
        o.WriteLine("## attribution");
        o.WriteLine();

        // Memory first, so that the process's peak RSS is the long prompt's and not an earlier method's.
        var memory = new MarkdownTable("1,024-token prompt" + (quick ? " (quick: 64 tokens)" : ""), "wall (s)", "peak RSS before (MiB)", "peak RSS after (MiB)");
        long[] longPrompt = Prompt(cfg, longPos);
        var target = new AttributionTarget(longPrompt[^1] % cfg.VocabSize);
        foreach (var (name, method) in new (string, IAttributionMethod)[]
                 {
                     // Memory depends on the batch, not on the number of steps or windows: few keep the run short.
                     ("integrated gradients, 2 steps", new IntegratedGradients { Steps = 2 }),
                     ($"occlusion, span = stride = {longPos / 2}", new Occlusion { Span = longPos / 2, Stride = longPos / 2 }),
                 })
        {
            ctx.Log($"attribution: {name} on {longPos} tokens");
            long before = MachineInfo.PeakRss;
            var sw = Stopwatch.StartNew();
            using (NewDisposeScope()) method.Attribute(model, longPrompt, target);
            memory.Row(name, Fmt.Num(sw.Elapsed.TotalSeconds), Fmt.MiB(before), Fmt.MiB(MachineInfo.PeakRss));
        }
        o.WriteLine(memory.ToString());
        o.WriteLine();
        o.Flush();

        long[] prompt = Prompt(cfg, pos);
        target = new AttributionTarget(prompt[^1] % cfg.VocabSize);
        var forward = Time(() => model.Forward(tensor(prompt).unsqueeze(0)));
        var methods = new MarkdownTable("method", "wall (s)", "÷ one forward");
        foreach (var name in AttributionMethods.Names)
        {
            ctx.Log($"attribution: {name}");
            double seconds = Time(() => AttributionMethods.Create(name).Attribute(model, prompt, target));
            methods.Row(name, Fmt.Num(seconds), Fmt.Num(seconds / forward));
        }

        var ids = tensor(prompt).unsqueeze(0);
        var e = EmbeddingGradients.Embeddings(model, prompt);
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 3), full: (1, 3));
        var timings = Measure.Interleaved(warmup, reps,
        [
            new Variant($"IG, {igSteps} steps", () => { using var _ = NewDisposeScope(); new IntegratedGradients { Steps = igSteps }.Attribute(model, prompt, target); }),
            new Variant($"{igSteps} × forward+backward", () =>
            {
                for (int s = 0; s < igSteps; s++)
                {
                    using var _ = NewDisposeScope();
                    var leaf = e.unsqueeze(0).clone().requires_grad_(true);
                    target.Evaluate(model.RunWithHooks(ids, ("hook_embed", (_, _) => leaf))).sum().backward();
                }
            }),
        ], m => ctx.Log("attribution: " + m)).ToList();
        e.Dispose();
        ids.Dispose();

        o.WriteLine($"Model: {cfg} (random weights), float32, CPU, default memory budget {MemoryBudget.Default.Bytes >> 20} MiB. " +
                    $"One target after a {pos}-token prompt; one forward pass takes {Fmt.Num(forward * 1000)} ms. Default hyper-parameters " +
                    "(integrated gradients and SmoothGrad: 50 steps / samples; occlusion: span 1).");
        o.WriteLine();
        o.WriteLine(methods.ToString());
        o.WriteLine();
        o.WriteLine(new MarkdownTable("comparison", "median (ms)", "min (ms)", "ratio to the passes (paired median)")
            .Row(timings[0].Name, Fmt.Num(timings[0].MedianMs), Fmt.Num(timings[0].MinMs), Fmt.Ratio(timings[0].PairedRatio(timings[1])))
            .Row(timings[1].Name, Fmt.Num(timings[1].MedianMs), Fmt.Num(timings[1].MinMs), "1.000").ToString());
        o.WriteLine();
        o.WriteLine($"{IgRatio}: {Fmt.Ratio(timings[0].PairedRatio(timings[1]))} (IG batches its steps within the budget and adds the two end-point forwards for the completeness check).");
    }

    static long[] Prompt(ModelConfig cfg, int pos)
    {
        using var t = BenchModels.Tokens(cfg, 1, pos);
        return t[0].data<long>().ToArray();
    }

    /// <summary>One timed run (the methods are too slow on the full model to repeat; the forward is warmed up by the memory runs).</summary>
    static double Time(Action run)
    {
        var sw = Stopwatch.StartNew();
        using (NewDisposeScope()) run();
        return sw.Elapsed.TotalSeconds;
    }
}
