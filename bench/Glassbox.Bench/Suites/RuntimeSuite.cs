using Glassbox.Bench.Harness;
using Glassbox.Hooks;
using Glassbox.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 2: the cost of the runtime on a GPT-2-small-shaped random model at batch 4 × 128 tokens, float32,
/// CPU. Forward throughput; RunWithCache and no-op hooks as ratios to a plain forward; the model's FLOP
/// rate as a fraction of what this machine's float32 matmul reaches; and resident memory across a
/// RunWithCache loop. All timed variants are interleaved in one loop (see <see cref="Measure"/>), so the
/// ratios hold on a busy machine even when the absolute times do not.
/// </summary>
public sealed class RuntimeSuite : ISuite
{
    public string Name => "runtime";
    public string Description => "forward tokens/s, RunWithCache and hook overhead, FLOP efficiency, memory (issue 2)";

    public const string Throughput = "forward throughput (tokens/s)";
    public const string CacheRatio = "RunWithCache (all default points) ÷ forward";
    public const string HookAllRatio = "no-op hook on every point ÷ forward";
    public const string HookDefaultRatio = "no-op hook on every default point ÷ forward";
    public const string FlopRatio = "model FLOP rate ÷ matmul FLOP rate";
    public const string ModelRate = "model FLOP rate (GFLOP/s)";
    public const string MatmulRate = "matmul FLOP rate (GFLOP/s)";
    public const string RssCurrent = "current RSS (MiB)";
    public const string RssPeak = "peak RSS (MiB)";
    public const string LiveTensors = "live tensors (this thread)";

    public void Run(BenchContext ctx)
    {
        bool quick = ctx.Quick;
        var cfg = (quick ? BenchModels.Tiny : BenchModels.Gpt2Small).Validated();
        int batch = quick ? 2 : 4, pos = quick ? 32 : 128, n = quick ? 256 : 2048, loop = 50;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 3), full: (2, 11));
        int minQuiet = quick ? 0 : 3, maxReps = quick ? reps : 2 * reps + 5; // extra rounds cost minutes each when the machine stays busy

        ctx.Log($"runtime: building {cfg.Architecture}");
        using var model = BenchModels.Create(cfg);
        using var tokens = BenchModels.Tokens(cfg, batch, pos);
        using var a = randn(n, n, generator: new Generator(1));
        using var b = randn(n, n, generator: new Generator(2));

        var everyPoint = model.Hooks.Points;
        var defaultPoints = everyPoint.Where(p => !p.OptIn).ToList();
        string everyFilter = "*", defaultFilter = string.Join(",", defaultPoints.Select(p => p.Name));
        int calls = 0;
        HookFn noop = (_, _) => null;
        using (NewDisposeScope()) model.RunWithHooks(tokens, (everyFilter, (_, _) => { calls++; return null; }));
        if (calls != everyPoint.Count) throw new InvalidOperationException($"The no-op hook ran {calls} times, expected once per point ({everyPoint.Count}).");

        var variants = new List<Variant>
        {
            new("forward", () => { using var _ = NewDisposeScope(); model.Forward(tokens); }),
            new("RunWithCache", () => { using var _ = NewDisposeScope(); var (_, cache) = model.RunWithCache(tokens); cache.Dispose(); }),
            new("no-op hook, every point", () => { using var _ = NewDisposeScope(); model.RunWithHooks(tokens, (everyFilter, noop)); }),
            new("no-op hook, default points", () => { using var _ = NewDisposeScope(); model.RunWithHooks(tokens, (defaultFilter, noop)); }),
            new($"matmul {n}×{n}", () => { using var _ = NewDisposeScope(); matmul(a, b); }),
        };
        ctx.Log($"runtime: timing {variants.Count} variants, {warmup} warm-up + {reps} rounds (up to {maxReps} for {minQuiet} quiet samples each)");
        var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("runtime: " + m), minQuiet, maxReps).ToDictionary(x => x.Name);
        Timing fwd = t["forward"], cached = t["RunWithCache"], hookAll = t["no-op hook, every point"],
            hookDefault = t["no-op hook, default points"], mm = t[$"matmul {n}×{n}"];

        var flops = ForwardFlops.Of(cfg, batch, pos);
        double mmFlops = 2.0 * n * n * n;
        double tok = (double)batch * pos;
        double Rate(double f, double ms) => f / (ms / 1000) / 1e9;

        ctx.Log($"runtime: memory, {loop} RunWithCache iterations");
        var memory = MemoryAcrossCacheLoop(model, tokens, loop);

        var o = ctx.Out;
        o.WriteLine("## runtime");
        o.WriteLine();
        o.WriteLine($"Model: {cfg} (random weights, {model.ParameterCount / 1e6:F1} M parameters), float32, CPU. " +
                    $"Input: batch {batch} × {pos} tokens. Hook points: {everyPoint.Count} ({defaultPoints.Count} default + {everyPoint.Count - defaultPoints.Count} opt-in: `hook_result` and the per-head inputs `hook_attn_in`, `hook_q/k/v_input`).");
        int rounds = fwd.Samples.Count;
        o.WriteLine($"Timing: {warmup} warm-up + {rounds} timed rounds" +
                    (minQuiet > 0 ? $" ({reps} planned, more until each variant had {minQuiet} quiet samples, at most {maxReps})" : "") + ", " +
                    $"the {variants.Count} variants interleaved (rotating order) in each round. " +
                    "A sample is *quiet* when our threads waited for a CPU (run-queue delay, /proc/self/task/*/schedstat) at most " +
                    $"{100 * Sample.QuietContention:F0}% of its wall time; on this shared machine the others are 2–5× slower. " +
                    "A ratio to `forward` is given four ways: of the medians; of the minima; *paired*, the median over rounds of the ratio within a round; " +
                    "and *quiet*, the ratio of the medians of the quiet samples (of the minima where a variant had none), which the verdict uses. " +
                    $"Forward FLOPs (analytic): {flops.Total / 1e9:F2} G = projections {flops.Projections / 1e9:F2} + MLP {flops.Mlp / 1e9:F2} + attention {flops.Attention / 1e9:F2} + unembed {flops.Unembed / 1e9:F2}; " +
                    $"the matmul is {n}×{n} · {n}×{n} ({mmFlops / 1e9:F2} GFLOP).");
        o.WriteLine();
        string Verdict(double v, double target, bool atMost) => (atMost ? v <= target : v >= target) ? "met" : "**missed**";
        double FlopRatioOf(double fwdMs, double mmMs) => Rate(flops.Total, fwdMs) / Rate(mmFlops, mmMs);
        var table = new MarkdownTable("metric", "median", "min", "paired", "quiet", "target", "verdict (quiet)");
        table.Row(Throughput, Fmt.Num(tok / (fwd.MedianMs / 1000)), Fmt.Num(tok / (fwd.MinMs / 1000)), "—", Fmt.Num(tok / (fwd.QuietMs / 1000)), "—", "—");
        void RatioRow(string label, Timing v, double target)
        {
            double quiet = v.QuietMs / fwd.QuietMs;
            table.Row(label, Fmt.Ratio(v.MedianMs / fwd.MedianMs), Fmt.Ratio(v.MinMs / fwd.MinMs), Fmt.Ratio(v.PairedRatio(fwd)), Fmt.Ratio(quiet),
                $"≤ {target:F2}", Verdict(quiet, target, atMost: true));
        }
        RatioRow(CacheRatio, cached, 1.15);
        RatioRow(HookAllRatio, hookAll, 1.05);
        RatioRow(HookDefaultRatio, hookDefault, 1.05);
        double flopQuiet = FlopRatioOf(fwd.QuietMs, mm.QuietMs);
        table.Row(FlopRatio, Fmt.Ratio(FlopRatioOf(fwd.MedianMs, mm.MedianMs)), Fmt.Ratio(FlopRatioOf(fwd.MinMs, mm.MinMs)),
            Fmt.Ratio(fwd.Paired(mm, FlopRatioOf)), Fmt.Ratio(flopQuiet), "≥ 0.70", Verdict(flopQuiet, 0.7, atMost: false));
        table.Row(ModelRate, Fmt.Num(Rate(flops.Total, fwd.MedianMs)), Fmt.Num(Rate(flops.Total, fwd.MinMs)), "—", Fmt.Num(Rate(flops.Total, fwd.QuietMs)), "—", "—");
        table.Row(MatmulRate, Fmt.Num(Rate(mmFlops, mm.MedianMs)), Fmt.Num(Rate(mmFlops, mm.MinMs)), "—", Fmt.Num(Rate(mmFlops, mm.QuietMs)), "—", "—");
        o.Write(table);
        o.WriteLine();
        var times = new MarkdownTable("variant", "median ms", "min ms", "max ms", "quiet median ms", "median CPU ms", "median contention", "quiet/rounds", "page faults");
        foreach (var v in variants.Select(v => t[v.Name]))
            times.Row(v.Name, Fmt.Num(v.MedianMs), Fmt.Num(v.MinMs), Fmt.Num(v.MaxMs), Fmt.Num(v.QuietMs), Fmt.Num(v.CpuMedianMs),
                $"{100 * v.MedianContention:F0}%", $"{v.QuietCount}/{v.Samples.Count}", v.MedianPageFaults.ToString("F0"));
        o.Write(times);
        o.WriteLine();
        o.WriteLine($"Memory across {loop} iterations of `RunWithCache` (all default points; logits and cache disposed each iteration), " +
                    "sampled after the timing rounds above (which already ran RunWithCache), after 10 and after all iterations. " +
                    "Peak RSS includes building the model (random weights, then the model's own copy).");
        o.WriteLine();
        var mem = new MarkdownTable("memory", "before", "after 10", $"after {loop}", $"change 10 → {loop}");
        foreach (var (label, s) in memory) mem.Row(label, s.Before, s.After10, s.AfterAll, s.Change);
        o.Write(mem);
    }

    sealed record MemoryRow(string Before, string After10, string AfterAll, string Change);

    static List<(string, MemoryRow)> MemoryAcrossCacheLoop(HookedTransformer model, Tensor tokens, int iterations)
    {
        var samples = new List<(long Rss, long Peak, long Live)>();
        (long, long, long) Sample() => (MachineInfo.CurrentRss, MachineInfo.PeakRss, DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
        samples.Add(Sample());
        for (int i = 1; i <= iterations; i++)
        {
            var (logits, cache) = model.RunWithCache(tokens);
            cache.Dispose();
            logits.Dispose();
            if (i == 10) samples.Add(Sample());
        }
        samples.Add(Sample());
        MemoryRow Bytes(Func<(long Rss, long Peak, long Live), long> f) =>
            new(Fmt.MiB(f(samples[0])), Fmt.MiB(f(samples[1])), Fmt.MiB(f(samples[2])), Fmt.SignedMiB(f(samples[2]) - f(samples[1])));
        long live0 = samples[0].Live, live1 = samples[1].Live, live2 = samples[2].Live;
        return
        [
            (RssCurrent, Bytes(s => s.Rss)),
            (RssPeak, Bytes(s => s.Peak)),
            (LiveTensors, new(live0.ToString(), live1.ToString(), live2.ToString(), (live2 - live1 >= 0 ? "+" : "") + (live2 - live1))),
        ];
    }
}
