using System.Diagnostics;
using Glassbox.Bench.Harness;
using Glassbox.Hooks;
using Glassbox.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Why the <c>runtime</c> numbers are what they are, on the same model and input: (1) where a forward
/// pass spends its time, measured by timestamping hooks on every point (libtorch on CPU is synchronous,
/// so the time between two consecutive hook points is the work between them); (2) candidate causes
/// of overhead as interleaved variants against a plain forward, and the memory a forward holds (with
/// the last segment, unembedding and leaving Forward, split by a replica of Forward);
/// (3) thread scaling; (4) the model's norm, attention and per-head output code against fused
/// libtorch kernels; (5) the float32 GEMM rate of each matmul shape the model uses. Findings and
/// proposals built on it are in docs/benchmarks.md.
/// </summary>
public sealed class RuntimeProfileSuite : ISuite
{
    public string Name => "runtime-profile";
    public string Description => "diagnostics for runtime: per-segment time, overhead candidates, threads, fused kernels, GEMM shapes";

    public void Run(BenchContext ctx)
    {
        bool quick = ctx.Quick;
        var cfg = (quick ? BenchModels.Tiny : BenchModels.Gpt2Small).Validated();
        int batch = quick ? 2 : 4, pos = quick ? 32 : 128, n = quick ? 256 : 2048;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 3), full: (2, 9));
        ctx.Log($"runtime-profile: building {cfg.Architecture}");
        using var model = BenchModels.Create(cfg);
        using var tokens = BenchModels.Tokens(cfg, batch, pos);
        var o = ctx.Out;
        o.WriteLine("## runtime-profile");
        o.WriteLine();
        o.WriteLine($"Model and input as in `runtime`: {cfg.Architecture}, batch {batch} × {pos} tokens, float32, {get_num_threads()} torch threads " +
                    $"unless stated. {warmup} warm-up + {reps} timed rounds per table (more, up to {MaxReps(ctx, reps)}, until each variant has {MinQuiet(ctx)} quiet samples), " +
                    "variants interleaved; *quiet* samples and ratios as in `runtime`.");
        o.WriteLine();
        Segments(ctx, model, tokens, warmup, reps, n);
        LastSegment(ctx, model, tokens, warmup, reps);
        Overheads(ctx, model, tokens, warmup, reps);
        Threads(ctx, model, tokens, warmup, reps, n);
        NonGemm(ctx, model, batch, pos, warmup, quick ? 5 : reps * 2);
        GemmShapes(ctx, cfg, batch * pos, warmup, quick ? 5 : reps * 2, n);
    }

    static int MinQuiet(BenchContext ctx) => ctx.Quick ? 0 : 3;
    static int MaxReps(BenchContext ctx, int reps) => ctx.Quick ? reps : 2 * reps + 5;

    // ---- (1) segments -------------------------------------------------------------------------

    static readonly Dictionary<string, string> SegmentWork = new()
    {
        ["hook_embed"] = "token range check + embedding lookup",
        ["hook_pos_embed"] = "position embedding slice",
        ["hook_resid_pre"] = "embed + positions (layer 0); nothing (later layers)",
        ["ln1.hook_scale"] = "ln1: centre, square, mean, sqrt",
        ["ln1.hook_normalized"] = "ln1: divide, weight, bias",
        ["attn.hook_q"] = "Q projection (matmul + bias)",
        ["attn.hook_k"] = "K projection (matmul + bias)",
        ["attn.hook_v"] = "V projection (matmul + bias)",
        ["attn.hook_attn_scores"] = "Q·Kᵀ, scale, causal mask",
        ["attn.hook_pattern"] = "softmax",
        ["attn.hook_z"] = "pattern·V, transpose",
        ["hook_attn_out"] = "reshape z (copy) + O projection (matmul + bias)",
        ["hook_resid_mid"] = "residual add",
        ["hook_mlp_in"] = "nothing",
        ["ln2.hook_scale"] = "ln2: centre, square, mean, sqrt",
        ["ln2.hook_normalized"] = "ln2: divide, weight, bias",
        ["mlp.hook_pre"] = "W_in (matmul + bias)",
        ["mlp.hook_post"] = "gelu_new",
        ["hook_mlp_out"] = "W_out (matmul + bias)",
        ["hook_resid_post"] = "residual add",
        ["ln_final.hook_scale"] = "ln_final: centre, square, mean, sqrt",
        ["ln_final.hook_normalized"] = "ln_final: divide, weight, bias",
        ["(return)"] = "unembed (matmul) + leaving Forward (disposing its scope)",
    };

    static string Short(string name) => name.StartsWith("blocks.", StringComparison.Ordinal) ? name[(name.IndexOf('.', 7) + 1)..] : name;

    static double SegmentFlops(string key, ModelConfig c, long batch, long pos)
    {
        double T = batch * pos, d = c.DModel, L = c.NLayers;
        return key switch
        {
            "attn.hook_q" => 2 * T * d * c.NHeads * c.DHead * L,
            "attn.hook_k" or "attn.hook_v" => 2 * T * d * c.NKvHeads * c.DHead * L,
            "hook_attn_out" => 2 * T * c.NHeads * c.DHead * d * L,
            "attn.hook_attn_scores" or "attn.hook_z" => 2.0 * batch * c.NHeads * pos * pos * c.DHead * L,
            "mlp.hook_pre" or "hook_mlp_out" => 2 * T * d * c.DMlp * L,
            "(return)" => 2 * T * d * c.VocabSize,
            _ => 0,
        };
    }

    static void Segments(BenchContext ctx, HookedTransformer model, Tensor tokens, int warmup, int reps, int n)
    {
        ctx.Log("runtime-profile: segments");
        var stamps = new List<(string Key, long Ticks)>(512);
        HookFn stamp = (_, p) => { stamps.Add((Short(p.Name), Stopwatch.GetTimestamp())); return null; };
        var rounds = new List<(Sample Forward, Dictionary<string, double> Segments)>();
        using var a = randn(n, n);
        using var b = randn(n, n);
        var mmSamples = new List<Sample>();
        using var registration = model.Hooks.Add(model.Hooks.Points.Where(p => !p.OptIn), stamp);
        int minQuiet = MinQuiet(ctx), maxReps = MaxReps(ctx, reps);
        for (int r = -warmup; r < reps || (r < maxReps && rounds.Count(x => x.Forward.Quiet) < minQuiet); r++)
        {
            stamps.Clear();
            long start = 0, end = 0;
            var sample = Measure.One(() =>
            {
                start = Stopwatch.GetTimestamp();
                using (NewDisposeScope()) model.Forward(tokens);
                end = Stopwatch.GetTimestamp();
            });
            stamps.Add(("(return)", end));
            var mm = Measure.One(() => { using var _ = NewDisposeScope(); matmul(a, b); });
            ctx.Log($"runtime-profile: segments round {r + 1}: forward {sample.WallMs:F0} ms, contention {100 * sample.Contention:F0}%");
            if (r < 0) continue;
            mmSamples.Add(mm);
            var seg = new Dictionary<string, double>();
            long prev = start;
            foreach (var (key, ticks) in stamps)
            {
                seg[key] = seg.GetValueOrDefault(key) + Stopwatch.GetElapsedTime(prev, ticks).TotalMilliseconds;
                prev = ticks;
            }
            rounds.Add((sample, seg));
        }
        // Quiet rounds only (the three least contended if fewer were quiet).
        var kept = rounds.Where(x => x.Forward.Quiet).ToList();
        if (kept.Count < 3) kept = rounds.OrderBy(x => x.Forward.Contention).Take(3).ToList();
        var perRound = kept.Select(x => x.Segments).ToList();
        double total = Stats.Median(kept.Select(x => x.Forward.WallMs).ToList());
        var mmTiming = new Timing("matmul", mmSamples);
        double mmRate = 2.0 * n * n * n / (mmTiming.QuietMs / 1000) / 1e9;
        long bt = tokens.shape[0], pt = tokens.shape[1];
        var o = ctx.Out;
        o.WriteLine($"### Where a forward pass spends its time");
        o.WriteLine();
        o.WriteLine($"Timestamping hook on all {model.Hooks.Points.Count(p => !p.OptIn)} default points; a segment ends at the named point and is summed over the {model.Config.NLayers} layers. " +
                    $"Medians over the {kept.Count} quietest of {rounds.Count} rounds ({kept.Count(x => x.Forward.Quiet)} quiet): forward {Fmt.Num(total)} ms (the share is of the sum of segment medians); " +
                    $"{n}² matmul (timed after each forward) {Fmt.Num(mmRate)} GFLOP/s from its quiet samples ({mmTiming.QuietCount}/{mmSamples.Count}). " +
                    "\"of matmul\" is the segment's GFLOP/s over that rate.");
        o.WriteLine();
        var table = new MarkdownTable("segment ends at", "work", "median ms", "share", "GFLOP", "GFLOP/s", "of matmul");
        var medians = perRound[0].Keys.ToDictionary(k => k, k => Stats.Median(perRound.Select(s => s[k]).ToList()));
        double sum = medians.Values.Sum();
        foreach (var (key, ms) in medians)
        {
            double f = SegmentFlops(key, model.Config, bt, pt);
            double rate = f / (ms / 1000) / 1e9;
            table.Row(key, SegmentWork.GetValueOrDefault(key, "?"), Fmt.Num(ms), $"{100 * ms / sum:F1}%",
                f > 0 ? Fmt.Num(f / 1e9) : "—", f > 0 ? Fmt.Num(rate) : "—", f > 0 ? Fmt.Ratio(rate / mmRate) : "—");
        }
        double allFlops = medians.Keys.Sum(k => SegmentFlops(k, model.Config, bt, pt)), allRate = allFlops / (sum / 1000) / 1e9;
        table.Row("(all)", "sum of the segment medians", Fmt.Num(sum), "100%", Fmt.Num(allFlops / 1e9), Fmt.Num(allRate), Fmt.Ratio(allRate / mmRate));
        o.Write(table);
        o.WriteLine();
    }

    // ---- (2) overhead candidates ----------------------------------------------------------------

    /// <summary>Where the time of a replica forward went: timestamps and page-fault counts around the unembedding.</summary>
    sealed class Timeline
    {
        public long Start, UnembedStart, UnembedEnd, ScopeExited;
        public long FaultsBeforeUnembed, FaultsAfterUnembed;
        public double Ms(long a, long b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds;
    }

    /// <summary>
    /// HookedTransformer.Forward rebuilt from its public parts (same operations, same result): with
    /// <paramref name="scopePerBlock"/> each block runs in its own dispose scope, so its temporaries are
    /// freed before the next block instead of when Forward returns.
    /// </summary>
    static Tensor ReplicaForward(HookedTransformer m, Tensor tokens, bool scopePerBlock, Timeline? timeline = null)
    {
        if (timeline is not null) timeline.Start = Stopwatch.GetTimestamp();
        Tensor logits;
        using (var scope = NewDisposeScope())
        {
            long b = tokens.shape[0], p = tokens.shape[1];
            var x = m.HookEmbed.Run(m.W_E.index_select(0, tokens.flatten()).view(b, p, m.Config.DModel));
            if (m.W_pos is not null) x = x + m.HookPosEmbed!.Run(m.W_pos.narrow(0, 0, p).expand(x.shape));
            foreach (var block in m.Blocks)
            {
                if (!scopePerBlock) { x = block.Forward(x, 0, null); continue; }
                using var blockScope = NewDisposeScope();
                x = block.Forward(x, 0, null).MoveToOuterDisposeScope();
            }
            var y = m.LnFinal.Forward(x);
            if (timeline is not null) { timeline.UnembedStart = Stopwatch.GetTimestamp(); timeline.FaultsBeforeUnembed = Measure.MinorFaults(); }
            logits = m.b_U is null ? matmul(y, m.W_U) : matmul(y, m.W_U) + m.b_U;
            if (timeline is not null) { timeline.UnembedEnd = Stopwatch.GetTimestamp(); timeline.FaultsAfterUnembed = Measure.MinorFaults(); }
            logits.MoveToOuterDisposeScope();
        }
        if (timeline is not null) timeline.ScopeExited = Stopwatch.GetTimestamp();
        return logits;
    }

    static Tensor ForwardWithBlockScopes(HookedTransformer m, Tensor tokens) => ReplicaForward(m, tokens, scopePerBlock: true);

    /// <summary>The last segment of the profile (unembedding + leaving Forward), split by a replica of Forward.</summary>
    static void LastSegment(BenchContext ctx, HookedTransformer model, Tensor tokens, int warmup, int reps)
    {
        ctx.Log("runtime-profile: last segment");
        using (NewDisposeScope())
        {
            if (!model.Forward(tokens).equal(ReplicaForward(model, tokens, scopePerBlock: false)).all().item<bool>())
                throw new InvalidOperationException("The replica forward does not reproduce Forward.");
        }
        var rows = new[] { (Label: "one dispose scope (as `Forward`)", PerBlock: false), (Label: "a dispose scope per block", PerBlock: true) };
        var runs = rows.Select(_ => new List<(Sample Sample, Timeline Timeline)>()).ToArray();
        int minQuiet = MinQuiet(ctx), maxReps = MaxReps(ctx, reps);
        for (int r = -warmup; r < reps || (r < maxReps && runs.Any(x => x.Count(y => y.Sample.Quiet) < minQuiet)); r++)
        {
            for (int j = 0; j < rows.Length; j++)
            {
                int i = (j + r + warmup) % rows.Length;
                var timeline = new Timeline();
                var sample = Measure.One(() => { using var _ = NewDisposeScope(); ReplicaForward(model, tokens, rows[i].PerBlock, timeline); });
                if (r >= 0) runs[i].Add((sample, timeline));
            }
            ctx.Log($"runtime-profile: last segment round {r + 1}");
        }
        var o = ctx.Out;
        o.WriteLine("### Inside the last segment: the unembedding");
        o.WriteLine();
        var c = model.Config;
        o.WriteLine("A replica of `Forward` built from the model's public parts (checked bit-identical), timestamped around the unembedding matmul " +
                    $"([{tokens.numel()}, {c.DModel}] · [{c.DModel}, {c.VocabSize}] → {tokens.numel() * c.VocabSize * 4 / 1e6:F0} MB of float32 logits, " +
                    $"{tokens.numel() * c.VocabSize * 4 / 4096} pages of 4 KiB) and around leaving its dispose scope; medians of the quiet samples.");
        o.WriteLine();
        var table = new MarkdownTable("forward", "total ms", "embed + blocks + ln_final ms", "unembed matmul ms", "leaving the scope ms",
            "unembed GFLOP/s", "page faults in the unembed", "page faults in total", "quiet/rounds");
        double unembedFlops = 2.0 * tokens.numel() * model.Config.DModel * model.Config.VocabSize;
        for (int i = 0; i < rows.Length; i++)
        {
            var kept = runs[i].Where(x => x.Sample.Quiet).ToList();
            if (kept.Count == 0) kept = runs[i].OrderBy(x => x.Sample.Contention).Take(3).ToList();
            double Med(Func<(Sample Sample, Timeline Timeline), double> f) => Stats.Median(kept.Select(f).ToList());
            double unembedMs = Med(x => x.Timeline.Ms(x.Timeline.UnembedStart, x.Timeline.UnembedEnd));
            table.Row(rows[i].Label, Fmt.Num(Med(x => x.Sample.WallMs)), Fmt.Num(Med(x => x.Timeline.Ms(x.Timeline.Start, x.Timeline.UnembedStart))),
                Fmt.Num(unembedMs), Fmt.Num(Med(x => x.Timeline.Ms(x.Timeline.UnembedEnd, x.Timeline.ScopeExited))),
                Fmt.Num(unembedFlops / (unembedMs / 1000) / 1e9),
                Med(x => x.Timeline.FaultsAfterUnembed - x.Timeline.FaultsBeforeUnembed).ToString("F0"), Med(x => x.Sample.PageFaults).ToString("F0"),
                $"{runs[i].Count(x => x.Sample.Quiet)}/{runs[i].Count}");
        }
        o.Write(table);
        o.WriteLine();
    }

    static void Overheads(BenchContext ctx, HookedTransformer model, Tensor tokens, int warmup, int reps)
    {
        ctx.Log("runtime-profile: overhead candidates");
        using (NewDisposeScope())
        {
            if (!model.Forward(tokens).equal(ForwardWithBlockScopes(model, tokens)).all().item<bool>())
                throw new InvalidOperationException("The per-block-scope forward does not reproduce Forward.");
        }
        var defaults = model.Hooks.Points.Where(p => !p.OptIn).ToList();
        HookFn noop = (_, _) => null;
        // RunWithCache's recording hook minus detach(): keeps the activation handle itself.
        var variants = new List<Variant>
        {
            new("forward", () => { using var _ = NewDisposeScope(); model.Forward(tokens); }),
            new("no-op hook on hook_result only (per-head path)", () => { using var _ = NewDisposeScope(); model.RunWithHooks(tokens, ("blocks.*.attn.hook_result", noop)); }),
            new("RunWithCache", () => { using var _ = NewDisposeScope(); var (_, c) = model.RunWithCache(tokens); c.Dispose(); }),
            new("cache by hook without detach()", () =>
            {
                using var _ = NewDisposeScope();
                var kept = new List<Tensor>(defaults.Count);
                using (model.Hooks.Add(defaults, (x, _) => { kept.Add(x.DetachFromDisposeScope()); return null; })) model.Forward(tokens);
                foreach (var t in kept) t.Dispose();
            }),
            new("forward, a dispose scope per block", () => { using var _ = NewDisposeScope(); ForwardWithBlockScopes(model, tokens); }),
            new("no-op hook on hook_result only, a dispose scope per block", () =>
            {
                using var _ = NewDisposeScope();
                using (model.Hooks.Add("blocks.*.attn.hook_result", noop)) ForwardWithBlockScopes(model, tokens);
            }),
        };
        var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("runtime-profile: " + m), MinQuiet(ctx), MaxReps(ctx, reps));
        var fwd = t[0];
        var o = ctx.Out;
        o.WriteLine("### Overhead candidates, against a plain forward");
        o.WriteLine();
        o.WriteLine("Ratios to `forward`: of the medians, of the minima, the median over rounds of the per-round ratio (*paired*), and of the medians " +
                    "of the quiet samples (*quiet*, as in `runtime`). Page faults: median minor page faults per call (4 KiB each).");
        o.WriteLine();
        var table = new MarkdownTable("variant", "quiet median ms", "min ms", "÷ forward (median)", "÷ forward (min)", "÷ forward (paired)", "÷ forward (quiet)", "quiet/rounds", "page faults");
        foreach (var v in t)
            table.Row(v.Name, Fmt.Num(v.QuietMs), Fmt.Num(v.MinMs), Fmt.Ratio(v.MedianMs / fwd.MedianMs), Fmt.Ratio(v.MinMs / fwd.MinMs),
                Fmt.Ratio(v.PairedRatio(fwd)), Fmt.Ratio(v.QuietMs / fwd.QuietMs), $"{v.QuietCount}/{v.Samples.Count}", v.MedianPageFaults.ToString("F0"));
        o.Write(table);
        o.WriteLine();
        // How much a forward holds at once: live tensors and malloc'd bytes at the last hook point, relative to before the call.
        (long Tensors, long Bytes) Held(Func<Tensor> run)
        {
            long tensors0 = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount, bytes0 = NativeHeap.AllocatedBytes();
            long tensors = 0, bytes = 0;
            using (NewDisposeScope())
            using (model.Hooks.Add("ln_final.hook_normalized", (_, _) =>
                   {
                       tensors = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount - tensors0;
                       bytes = NativeHeap.AllocatedBytes() - bytes0;
                       return null;
                   }))
                run();
            return (tensors, bytes);
        }
        var plain = Held(() => model.Forward(tokens));
        var scoped = Held(() => ForwardWithBlockScopes(model, tokens));
        o.WriteLine("Held just before the unembedding (at `ln_final.hook_normalized`), relative to before the call (bytes from glibc `mallinfo2`):");
        o.WriteLine();
        o.Write(new MarkdownTable("forward", "live tensors", "MiB allocated")
            .Row("`Forward` (one dispose scope for the whole pass)", plain.Tensors.ToString(), Fmt.MiB(plain.Bytes))
            .Row("a dispose scope per block", scoped.Tensors.ToString(), Fmt.MiB(scoped.Bytes)));
        o.WriteLine();
    }

    // ---- (3) threads ----------------------------------------------------------------------------

    static void Threads(BenchContext ctx, HookedTransformer model, Tensor tokens, int warmup, int reps, int n)
    {
        int most = Environment.ProcessorCount;
        if (most < 2) return;
        ctx.Log("runtime-profile: threads");
        using var a = randn(n, n);
        using var b = randn(n, n);
        Variant At(int threads, string name, Action run) => new($"{name}, {threads} thread{(threads == 1 ? "" : "s")}", run, () => set_num_threads(threads));
        Action fwd = () => { using var _ = NewDisposeScope(); model.Forward(tokens); };
        Action mm = () => { using var _ = NewDisposeScope(); matmul(a, b); };
        var variants = new List<Variant> { At(1, "forward", fwd), At(most, "forward", fwd), At(1, $"matmul {n}²", mm), At(most, $"matmul {n}²", mm) };
        IReadOnlyList<Timing> t;
        try { t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("runtime-profile: " + m), MinQuiet(ctx), MaxReps(ctx, reps)); }
        finally { set_num_threads(most); }
        var o = ctx.Out;
        o.WriteLine("### Thread scaling");
        o.WriteLine();
        o.WriteLine($"Speed-up from 1 to {most} torch threads (set_num_threads before each repetition, untimed); ideal is {most}. The median includes the contended samples, in which one of our threads waits for a CPU that another process holds.");
        o.WriteLine();
        var table = new MarkdownTable("work", "1 thread: median ms", "quiet ms", "quiet/rounds", $"{most} threads: median ms", "quiet ms", "quiet/rounds",
            "speed-up (median)", "speed-up (min)", "speed-up (paired)", "speed-up (quiet)");
        for (int i = 0; i < 4; i += 2)
            table.Row(t[i].Name.Split(',')[0], Fmt.Num(t[i].MedianMs), Fmt.Num(t[i].QuietMs), $"{t[i].QuietCount}/{t[i].Samples.Count}",
                Fmt.Num(t[i + 1].MedianMs), Fmt.Num(t[i + 1].QuietMs), $"{t[i + 1].QuietCount}/{t[i + 1].Samples.Count}",
                Fmt.Ratio(t[i].MedianMs / t[i + 1].MedianMs), Fmt.Ratio(t[i].MinMs / t[i + 1].MinMs), Fmt.Ratio(1 / t[i + 1].PairedRatio(t[i])),
                Fmt.Ratio(t[i].QuietMs / t[i + 1].QuietMs));
        o.Write(table);
        o.WriteLine();
    }

    // ---- (4) non-GEMM work: the model's code against fused libtorch kernels ------------------------

    static void NonGemm(BenchContext ctx, HookedTransformer model, int batch, int pos, int warmup, int reps)
    {
        ctx.Log("runtime-profile: non-GEMM work");
        var c = model.Config;
        int H = c.NHeads, dh = c.DHead, d = c.DModel;
        var gen = new Generator(5);
        using var x = randn(new long[] { batch, pos, d }, generator: gen);
        using var q = randn(new long[] { batch, H, pos, dh }, generator: gen);
        using var k = randn(new long[] { batch, H, pos, dh }, generator: gen);
        using var v = randn(new long[] { batch, H, pos, dh }, generator: gen);
        var ln = model.Blocks[0].Ln1;
        double scale = 1.0 / Math.Sqrt(dh);
        // Attention.Forward from the scores to z reshaped for W_O, as in src/Glassbox/Models/Attention.cs.
        Tensor AttentionAsModel()
        {
            var scores = matmul(q, k.transpose(2, 3)) * scale;
            var future = ones(pos, pos, dtype: ScalarType.Bool).triu(1);
            var pattern = scores.masked_fill(future, double.NegativeInfinity).softmax(-1);
            return matmul(pattern, v).transpose(1, 2).reshape(batch, pos, H * dh);
        }
        Tensor AttentionSdpa() => nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true).transpose(1, 2).reshape(batch, pos, H * dh);
        Tensor LayerNormFused() => nn.functional.layer_norm(x, new long[] { d }, ln.W, ln.B, c.NormEps);
        // The output projection, fused (as the model without hook_result hooks) and per head (with them).
        var attn = model.Blocks[0].Attn;
        using var zHeadMajor = randn(new long[] { batch, H, pos, dh }, generator: gen);
        using var z = zHeadMajor.transpose(1, 2); // [batch, pos, head, d_head], strided as in the model
        using var wOView = attn.W_O;
        using var wO = wOView.contiguous();
        using var wOFused = wO.reshape(H * dh, d);
        using var bO = attn.b_O?.clone() ?? zeros(d);
        Tensor OProjection() => matmul(z.reshape(batch, pos, H * dh), wOFused) + bO;
        Tensor PerHeadResult() => einsum("bphd,hdm->bphm", z, wO);
        Tensor PerHeadSummed() => PerHeadResult().sum(2) + bO;
        using (NewDisposeScope())
        {
            if (!AttentionAsModel().allclose(AttentionSdpa(), rtol: 1e-4, atol: 1e-5)) throw new InvalidOperationException("SDPA does not reproduce the model's attention.");
            if (!ln.Forward(x).allclose(LayerNormFused(), rtol: 1e-4, atol: 1e-5)) throw new InvalidOperationException("layer_norm does not reproduce the model's norm.");
            if (!OProjection().allclose(PerHeadSummed(), rtol: 1e-4, atol: 1e-4)) throw new InvalidOperationException("The per-head path does not reproduce the O projection.");
        }
        var variants = new List<Variant>
        {
            new("LayerNorm as the model (8 ops, exposes hook_scale)", () => { using var _ = NewDisposeScope(); ln.Forward(x); }),
            new("LayerNorm fused (nn.functional.layer_norm)", () => { using var _ = NewDisposeScope(); LayerNormFused(); }),
            new("attention as the model (scores, mask, softmax, ·V)", () => { using var _ = NewDisposeScope(); AttentionAsModel(); }),
            new("attention fused (scaled_dot_product_attention, causal)", () => { using var _ = NewDisposeScope(); AttentionSdpa(); }),
            new("O projection as the model (reshape z, matmul, + bias)", () => { using var _ = NewDisposeScope(); OProjection(); }),
            new("per-head path (einsum → hook_result, sum over heads, + bias)", () => { using var _ = NewDisposeScope(); PerHeadSummed(); }),
            new("per-head einsum only (hook_result itself)", () => { using var _ = NewDisposeScope(); PerHeadResult(); }),
        };
        var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("runtime-profile: non-GEMM " + m), MinQuiet(ctx), MaxReps(ctx, reps));
        var o = ctx.Out;
        o.WriteLine("### Non-GEMM work: the model's code against fused kernels");
        o.WriteLine();
        o.WriteLine($"One layer's worth at batch {batch} × {pos}: the model's norm (`Norm.Forward` of block 0, no hooks attached) and the model's attention " +
                    "arithmetic from Q, K, V to z (copied from `Attention.Forward`), each against libtorch's fused kernel (outputs checked equal). " +
                    "Fused kernels would apply only when no hook reads the intermediate (`hook_scale`; `hook_attn_scores`, `hook_pattern`). " +
                    "Last, the output projection as the model computes it without and with a hook on the opt-in `hook_result`.");
        o.WriteLine();
        var table = new MarkdownTable("work", "quiet median ms", "min ms", "quiet/rounds", "per forward (ms)", "÷ model's code (quiet)", "page faults");
        for (int i = 0; i < t.Count; i++)
        {
            var baseline = t[i < 4 ? i - i % 2 : 4];
            double perModel = t[i].QuietMs * (i < 2 ? 2 * c.NLayers + 1 : c.NLayers);
            table.Row(t[i].Name, Fmt.Num(t[i].QuietMs), Fmt.Num(t[i].MinMs), $"{t[i].QuietCount}/{t[i].Samples.Count}", Fmt.Num(perModel), Fmt.Ratio(t[i].QuietMs / baseline.QuietMs), t[i].MedianPageFaults.ToString("F0"));
        }
        o.Write(table);
        o.WriteLine();
        o.WriteLine($"\"Per forward\": the norm runs {2 * c.NLayers + 1} times per forward, attention and the output projection {c.NLayers} times.");
        o.WriteLine();
    }

    // ---- (5) GEMM shapes ------------------------------------------------------------------------

    static void GemmShapes(BenchContext ctx, ModelConfig c, int tokens, int warmup, int reps, int n)
    {
        ctx.Log("runtime-profile: GEMM shapes");
        var shapes = new List<(string Label, long M, long K, long N)>
        {
            ($"square {n}", n, n, n),
            ("Q, K, V or O projection", tokens, c.DModel, c.DModel),
            ("fused QKV projection", tokens, c.DModel, 3L * c.DModel),
            ("MLP in", tokens, c.DModel, c.DMlp),
            ("MLP out", tokens, c.DMlp, c.DModel),
            ("unembed", tokens, c.DModel, c.VocabSize),
            ("unembed, vocab padded to a multiple of 64", tokens, c.DModel, (c.VocabSize + 63) / 64 * 64),
        };
        var tensors = new List<Tensor>();
        Tensor Keep(Tensor x) { tensors.Add(x); return x; }
        var variants = new List<Variant>();
        foreach (var (label, m, k, nn) in shapes)
        {
            var x = Keep(randn(m, k)); var w = Keep(randn(k, nn)); var bias = Keep(randn(nn)); var wT = Keep(randn(nn, k));
            variants.Add(new($"{label}|matmul", () => { using var _ = NewDisposeScope(); matmul(x, w); }));
            variants.Add(new($"{label}|matmul NT", () => { using var _ = NewDisposeScope(); matmul(x, wT.t()); }));
            variants.Add(new($"{label}|matmul + bias", () => { using var _ = NewDisposeScope(); var y = matmul(x, w) + bias; }));
            variants.Add(new($"{label}|addmm", () => { using var _ = NewDisposeScope(); addmm(bias, x, w, beta: 1, alpha: 1); }));
        }
        try
        {
            var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("runtime-profile: GEMM " + m), MinQuiet(ctx), MaxReps(ctx, reps)).ToDictionary(x => x.Name);
            double peak = 2.0 * n * n * n / (t[$"square {n}|matmul"].QuietMs / 1000) / 1e9;
            var o = ctx.Out;
            o.WriteLine("### float32 GEMM rate by shape");
            o.WriteLine();
            o.WriteLine($"[M, K] · [K, N] at the model's shapes (M = {tokens} tokens), GFLOP/s from the quiet median; \"of square\" relates the plain matmul to the {n}² rate. " +
                        "\"matmul\" is the model's layout (weights input-major, [K, N]); \"NT\" multiplies by the transpose of an output-major [N, K] weight " +
                        "(nn.Linear's layout); \"+ bias\" is the model's `matmul(x, W) + b`, addmm the fused alternative.");
            o.WriteLine();
            var table = new MarkdownTable("shape", "M×K×N", "matmul GFLOP/s", "of square", "matmul NT GFLOP/s", "matmul + bias GFLOP/s", "addmm GFLOP/s", "page faults (matmul)");
            foreach (var (label, m, k, nn) in shapes)
            {
                double f = 2.0 * m * k * nn;
                double R(string v) => f / (t[$"{label}|{v}"].QuietMs / 1000) / 1e9;
                table.Row(label, $"{m}×{k}×{nn}", Fmt.Num(R("matmul")), Fmt.Ratio(R("matmul") / peak), Fmt.Num(R("matmul NT")), Fmt.Num(R("matmul + bias")), Fmt.Num(R("addmm")), t[$"{label}|matmul"].MedianPageFaults.ToString("F0"));
            }
            o.Write(table);
            o.WriteLine();
        }
        finally
        {
            foreach (var x in tensors) x.Dispose();
        }
    }
}
