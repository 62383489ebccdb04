using Glassbox.Bench.Harness;
using Glassbox.Features;
using Glassbox.Sae;
using static TorchSharp.torch;

namespace Glassbox.Bench.Suites;

/// <summary>
/// Issues 6 and 7: TopK SAE training tokens/s and its FLOP rate (≈ 12·d_in·d_sae per token: encoder and decoder
/// matmuls, backward ≈ 2 × forward) as a fraction of this machine's float32 matmul rate; activation-store throughput
/// (model run + hook capture per token); and max-activating scan tokens/s (forward, per-sequence peaks, SQLite commit)
/// for every MLP neuron of a layer. All interleaved in one run.
/// </summary>
public sealed class SaeSuite : ISuite
{
    public string Name => "sae";
    public string Description => "SAE training tokens/s ÷ matmul rate, activation store and max-activating scan tokens/s (issues 6, 7)";

    public const string Training = "SAE training (TopK)", Store = "activation store", Scan = "max-activating scan";

    public void Run(BenchContext ctx)
    {
        const int steps = 5;
        var cfg = ctx.Quick ? BenchModels.Tiny : BenchModels.Gpt2Small with { NLayers = 4, DModel = 256, NHeads = 4, DMlp = 1024, VocabSize = 8192, ContextLength = 128 };
        int n = ctx.Quick ? 256 : 1024, batchTokens = ctx.Quick ? 512 : 4096, dSae = 8 * cfg.DModel, sequences = ctx.Quick ? 8 : 64, length = ctx.Quick ? 32 : 128;
        var (warmup, reps) = ctx.Options.Repetitions(quick: (1, 2), full: (1, 5));
        using var model = BenchModels.Create(cfg);
        using var a = randn(n, n, generator: new Generator(1));
        using var b = randn(n, n, generator: new Generator(2));
        using var data = randn([batchTokens, cfg.DModel], generator: new Generator(3));
        using var sae = SparseAutoencoder.Initialise(new SaeConfig { DIn = cfg.DModel, DSae = dSae, K = 32, HookName = "blocks.1.hook_resid_post" }, seed: 1);
        var corpus = Enumerable.Range(0, sequences).Select(i => BenchModels.Tokens(cfg, 1, length, seed: 10 + i).data<long>().ToArray()).ToList();
        var options = new SaeTrainingOptions { Steps = steps, BatchTokens = batchTokens, GeometricMedianInit = false, LogEvery = int.MaxValue };
        var scratch = Directory.CreateTempSubdirectory("glassbox-bench-sae-").FullName;
        int scans = 0;
        IEnumerable<(Tensor, Tensor)> Same() { while (true) yield return (data.alias(), data.alias()); }
        var variants = new List<Variant>
        {
            new($"matmul {n}×{n}", () => { using var _ = NewDisposeScope(); matmul(a, b); }),
            new(Training, () => SaeTrainer.Train(sae, Same(), options)),
            new(Store, () =>
            {
                using var store = new ActivationStore(model, "blocks.1.hook_resid_post", null, corpus, new ActivationStoreOptions { Normalize = false, KeepInMemory = false, BufferTokens = 1 });
                using var scope = NewDisposeScope();
                foreach (var _ in store.Batches(sequences * (length - 1) / 2).Take(1)) { }
            }),
            new(Scan, () =>
            {
                using var store = MaxActivationStore.Open(Path.Combine(scratch, $"scan{scans++}.db"), "blocks.1.mlp.hook_post", cfg.DMlp, 10);
                MaxActivationScan.Run(model, "blocks.1.mlp.hook_post", null, corpus, store);
            }),
        };
        ctx.Log($"sae: timing {variants.Count} variants, {warmup} warm-up + {reps} rounds");
        Dictionary<string, Timing> t;
        try { t = Measure.Interleaved(warmup, reps, variants, m => ctx.Log("sae: " + m)).ToDictionary(x => x.Name); }
        finally { Directory.Delete(scratch, recursive: true); }

        double mmRate = 2.0 * n * n * n / (t[$"matmul {n}×{n}"].MedianMs / 1000) / 1e9;
        double perStep = t[Training].MedianMs / steps / 1000;
        double trainFlops = 12.0 * batchTokens * cfg.DModel * dSae;
        long corpusTokens = (long)sequences * length;
        var o = ctx.Out;
        o.WriteLine("## sae");
        o.WriteLine();
        o.WriteLine($"Random {cfg.Architecture}-shaped model (d_model {cfg.DModel}, d_mlp {cfg.DMlp}), float32, CPU. SAE: TopK, d_sae {dSae}, k 32, " +
                    $"{batchTokens}-token batches, {steps} steps per sample. Store and scan: {sequences} sequences × {length} tokens at layer 1. " +
                    $"{warmup} warm-up + {reps} rounds interleaved with a {n}×{n} matmul ({Fmt.Num(mmRate)} GFLOP/s median).");
        o.WriteLine();
        var table = new MarkdownTable("what", "tokens/s (median)", "tokens/s (best)", "GFLOP/s", "÷ matmul rate");
        table.Row(Training, Fmt.Num(batchTokens / perStep), Fmt.Num(batchTokens / (t[Training].MinMs / steps / 1000)),
            Fmt.Num(trainFlops / perStep / 1e9), Fmt.Ratio(trainFlops / perStep / 1e9 / mmRate));
        // The store ran the model over the whole corpus once: the first half-corpus batch needs the full buffer.
        table.Row(Store, Fmt.Num(corpusTokens / (t[Store].MedianMs / 1000)), Fmt.Num(corpusTokens / (t[Store].MinMs / 1000)), "", "");
        table.Row(Scan, Fmt.Num(corpusTokens / (t[Scan].MedianMs / 1000)), Fmt.Num(corpusTokens / (t[Scan].MinMs / 1000)), "", "");
        o.Write(table);
    }
}
