using Glassbox.Features;
using Glassbox.Sae;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Features;

/// <summary>Acceptance (issue 6): the stored top-k of a small corpus equals a brute-force scan; an interrupted scan resumes to the same store.</summary>
public class MaxActivationStoreTests
{
    const string Hook = "blocks.1.mlp.hook_post";
    const int K = 4;

    static IReadOnlyList<long[]> Corpus() =>
        Enumerable.Range(0, 23).Select(i => TinyModels.Tokens(1, 9, seed: 100 + i).data<long>().ToArray()).ToList();

    /// <summary>Per unit, every sequence's peak over positions ≥ 1 from one full cache, sorted; and the count of positive entries.</summary>
    static (List<(double Value, int Sequence, int Position)>[] Top, long[] Fired) BruteForce(Glassbox.Models.HookedTransformer model, IReadOnlyList<long[]> corpus)
    {
        using var tokens = tensor(corpus.SelectMany(s => s).ToArray(), [corpus.Count, 9]);
        var (logits, cache) = model.RunWithCache(tokens, Hook);
        using (logits)
        using (cache)
        {
            var acts = cache[Hook][.., 1..].to(ScalarType.Float32).contiguous();
            int units = (int)acts.shape[2];
            var data = acts.data<float>().ToArray();
            var top = new List<(double, int, int)>[units];
            var fired = new long[units];
            for (int u = 0; u < units; u++)
            {
                var peaks = new List<(double, int, int)>();
                for (int s = 0; s < corpus.Count; s++)
                {
                    int best = 0;
                    for (int p = 0; p < 8; p++)
                    {
                        float v = data[(s * 8 + p) * units + u];
                        if (v > data[(s * 8 + best) * units + u]) best = p;
                        if (v > 0) fired[u]++;
                    }
                    peaks.Add((data[(s * 8 + best) * units + u], s, best + 1));
                }
                top[u] = peaks.OrderByDescending(x => x.Item1).ThenBy(x => x.Item2).Take(K).ToList();
            }
            return (top, fired);
        }
    }

    [Fact]
    public void StoredTopKEqualsABruteForceScanAndAnInterruptedScanResumesToTheSameStore()
    {
        using var model = TinyModels.Create("gpt2");
        var corpus = Corpus();
        int units = model.Config.DMlp;
        var (expected, fired) = BruteForce(model, corpus);
        using var dir = new TempDirectory();

        using (var store = MaxActivationStore.Open(dir.File("once.db"), Hook, units, K))
            MaxActivationScan.Run(model, Hook, null, corpus, store, batchSequences: 5);
        // Interrupted after 10 sequences (two batches), then reopened and finished.
        using (var store = MaxActivationStore.Open(dir.File("resumed.db"), Hook, units, K))
            MaxActivationScan.Run(model, Hook, null, corpus.Take(10).ToList(), store, batchSequences: 5);
        using (var store = MaxActivationStore.Open(dir.File("resumed.db"), Hook, units, K))
        {
            Assert.Equal(10, store.SequencesDone);
            MaxActivationScan.Run(model, Hook, null, corpus, store, batchSequences: 5);
        }

        foreach (var file in new[] { "once.db", "resumed.db" })
        {
            using var store = MaxActivationStore.OpenExisting(dir.File(file));
            Assert.Equal(corpus.Count, store.SequencesDone);
            Assert.Equal(corpus.Count * 8L, store.TokensDone);
            var densities = store.Densities();
            for (int u = 0; u < units; u++)
            {
                var top = store.Top(u);
                Assert.Equal(expected[u].Select(e => (e.Sequence, e.Position)), top.Select(e => ((int)e.Sequence, e.Position)));
                for (int r = 0; r < K; r++)
                {
                    Assert.Equal(expected[u][r].Value, top[r].Activation, 5);
                    Assert.Equal(corpus[expected[u][r].Sequence], top[r].Tokens);
                }
                Assert.Equal(fired[u] / (corpus.Count * 8.0), densities[u], 12);
            }
            Assert.Equal(units, store.Histogram().Counts.Sum() + store.Histogram().Dead);
        }
    }

    [Fact]
    public void SaeLatentsAreScannedThroughTheEncoderAndAMismatchedStoreIsRefused()
    {
        using var model = TinyModels.Create("gpt2");
        var corpus = Corpus();
        using var sae = SparseAutoencoder.Initialise(new SaeConfig { DIn = model.Config.DModel, DSae = 24, K = 3, HookName = "blocks.1.hook_resid_pre" }, seed: 3);
        using var dir = new TempDirectory();
        using (var store = SaeFeatureViews.OpenStore(dir.File("sae.db"), sae, 2))
        {
            SaeFeatureViews.ScanLatents(model, sae, corpus, store);
            // Latent 0's best context, recomputed from the SAE's own encoding.
            var best = store.Top(0)[0];
            var (logits, cache) = model.RunWithCache(tensor(best.Tokens).unsqueeze(0), "blocks.1.hook_resid_pre");
            using (logits)
            using (cache)
            using (var f = sae.Encode(cache["blocks.1.hook_resid_pre"]))
                Assert.Equal(f[0, best.Position, 0].item<float>(), best.Activation, 5);
            var views = SaeFeatureViews.Build(model, sae, [0, 5], null, store);
            Assert.Equal(2, views.Units.Count);
            Assert.Equal(2, views.Units[0].Examples.Count);
            Assert.Equal(10, views.Units[0].Output.Top.Count);
        }
        Assert.Contains("24 units", Assert.Throws<GlassboxException>(() => MaxActivationStore.Open(dir.File("sae.db"), "blocks.0.mlp.hook_post", 24 * 2, 2)).Message);
    }
}
