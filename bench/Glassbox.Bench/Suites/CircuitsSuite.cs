using Glassbox.Bench.Harness;
using Glassbox.Circuits;
using Glassbox.Patching;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issue 5: the price of component importance and circuit discovery on an ioi-gpt2-4l-shaped random model (4 layers × 4 heads,
/// d_model 128, d_mlp 384) at batch 16 × 16 tokens, float32, CPU: attribution patching against exact patching over every
/// head × position (target ≥ 50× faster), EAP / EAP-IG against ACDC over the whole edge graph, with edges scored per second,
/// and information flow routes (one forward pass per prompt, no backward) against ACDC and plain forward passes on the same prompts.
/// Variants are interleaved, so the ratios hold on a busy machine.
/// </summary>
public sealed class CircuitsSuite : ISuite
{
    public string Name => "circuits";
    public string Description => "AtP vs exact patching, EAP/EAP-IG vs ACDC, edges/s (issue 5)";

    public const string AtPSpeedup = "exact patching ÷ AtP (heads × positions)";
    public const string AcdcOverEap = "ACDC ÷ EAP";
    public const string AcdcOverEapIg = "ACDC ÷ EAP-IG (m = 5)";
    public const string AcdcOverRoutes = "ACDC ÷ information flow routes";
    public const string RoutesOverForward = "information flow routes ÷ forward passes";

    public void Run(BenchContext ctx)
    {
        var cfg = (ctx.Quick ? BenchModels.Tiny : BenchModels.Tiny with
        {
            Architecture = "ioi-gpt2-4l-shaped", NLayers = 4, DModel = 128, NHeads = 4, DMlp = 384,
        }).Validated();
        int batch = ctx.Quick ? 4 : 16, pos = ctx.Quick ? 8 : 16;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (0, 1), full: (1, 3));
        using var model = BenchModels.Create(cfg);
        var targets = Enumerable.Range(0, batch).Select(b => new MetricTarget(b, pos - 1, [b + 1], [b + 2])).ToArray();
        using var task = new PatchingTask("bench", BenchModels.Tokens(cfg, batch, pos), BenchModels.Tokens(cfg, batch, pos, seed: 7),
            new PatchMetric(MetricKind.LogitDiff, targets));
        var graph = new ComputationalGraph(cfg);
        var prompts = Enumerable.Range(0, batch).Select(b => task.Clean[b].data<long>().ToArray()).ToArray();
        int heads = cfg.NLayers * cfg.NHeads;

        var variants = new List<Variant>
        {
            new("exact patching, heads × positions", () => ActivationPatching.Run(model, task, PatchSite.HeadsByPosition)),
            new("AtP, heads × positions", () => AttributionPatching.Run(model, task, PatchSite.HeadsByPosition)),
            new("EAP", () => EdgeAttributionPatching.Discover(model, task, steps: 1)),
            new("EAP-IG (m = 5)", () => EdgeAttributionPatching.Discover(model, task, steps: 5)),
            new("ACDC (τ = 0.02)", () => Acdc.Discover(model, task, tau: 0.02)),
            new($"information flow routes, {batch} prompts", () => { foreach (var p in prompts) InformationFlowRoutes.Build(model, p); }),
            new($"forward, {batch} prompts one at a time", () => { foreach (var p in prompts) using (NewDisposeScope()) model.Forward(tensor(p).unsqueeze(0)); }),
        };
        ctx.Log($"circuits: {cfg}, {graph.Edges.Count} edges; {warmup} warm-up + {reps} rounds");
        var t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("circuits: " + m)).ToDictionary(x => x.Name);
        var (exact, atp, eap, eapIg, acdc) = (t[variants[0].Name], t[variants[1].Name], t["EAP"], t["EAP-IG (m = 5)"], t["ACDC (τ = 0.02)"]);
        var (routes, forward) = (t[variants[5].Name], t[variants[6].Name]);

        var o = ctx.Out;
        o.WriteLine("## circuits");
        o.WriteLine();
        o.WriteLine($"Model: {cfg} (random weights), float32, CPU. Task: batch {batch} × {pos} tokens, logit difference at the last position. " +
                    $"Exact patching runs {heads * pos} patched forward passes ({heads} heads × {pos} positions); AtP two forward passes and one backward. " +
                    $"The edge graph has {graph.Edges.Count} edges (q/k/v inputs separate); EAP and EAP-IG include pruning and the faithfulness evaluation (3 patched runs), " +
                    $"ACDC one patched run per edge tested. {warmup} warm-up + {exact.Samples.Count} timed rounds, variants interleaved.");
        o.WriteLine();
        var table = new MarkdownTable("metric", "median", "paired", "target", "verdict");
        string Verdict(double v, double target) => v >= target ? "met" : "**missed**";
        double speedup = exact.MedianMs / atp.MedianMs;
        table.Row(AtPSpeedup, Fmt.Ratio(speedup), Fmt.Ratio(exact.PairedRatio(atp)), "≥ 50", Verdict(speedup, 50));
        table.Row(AcdcOverEap, Fmt.Ratio(acdc.MedianMs / eap.MedianMs), Fmt.Ratio(acdc.PairedRatio(eap)), "—", "—");
        table.Row(AcdcOverEapIg, Fmt.Ratio(acdc.MedianMs / eapIg.MedianMs), Fmt.Ratio(acdc.PairedRatio(eapIg)), "—", "—");
        table.Row(AcdcOverRoutes, Fmt.Ratio(acdc.MedianMs / routes.MedianMs), Fmt.Ratio(acdc.PairedRatio(routes)), "—", "—");
        table.Row(RoutesOverForward, Fmt.Ratio(routes.MedianMs / forward.MedianMs), Fmt.Ratio(routes.PairedRatio(forward)), "—", "—");
        o.Write(table);
        o.WriteLine();
        var times = new MarkdownTable("variant", "median ms", "min ms", "edges/s", "median contention");
        foreach (var v in variants.Select(v => t[v.Name]))
        {
            bool edgeMethod = v.Name.StartsWith("EAP") || v.Name.StartsWith("ACDC");
            times.Row(v.Name, Fmt.Num(v.MedianMs), Fmt.Num(v.MinMs), edgeMethod ? Fmt.Num(graph.Edges.Count / (v.MedianMs / 1000)) : "—", $"{100 * v.MedianContention:F0}%");
        }
        o.Write(times);
    }
}
