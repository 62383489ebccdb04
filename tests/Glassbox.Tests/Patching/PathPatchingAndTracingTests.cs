using Glassbox.Circuits;
using Glassbox.Patching;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Patching;

public class PathPatchingAndTracingTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void PathsToEveryReaderAddUpToPatchingTheSenderAndLaterReadersSeeNothing(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var metric = new PatchMetric(MetricKind.LogitDiff, [new MetricTarget(0, 7, [3], [11]), new MetricTarget(1, 7, [4], [12])]);
        using var task = new PatchingTask("tiny", TinyModels.Tokens(2, 8), TinyModels.Tokens(2, 8, seed: 9), metric);
        var graph = new ComputationalGraph(model.Config);
        // Every reader after L0H1: its corrupted output reaches the model everywhere, as if its z were patched.
        var everywhere = graph.Readers.Where(r => r.Group.Upstream > 2).Select(r => r.Name);
        double path = PathPatching.Effect(model, task, "L0H1", everywhere);
        var exact = ActivationPatching.Run(model, task, PatchSite.Heads, PatchDirection.Noising);
        Assert.Equal(exact.Values[0, 1] - exact.Unpatched, path, 1e-8);
        Assert.True(Math.Abs(path) > 1e-3);
        Assert.Equal(0.0, PathPatching.Effect(model, task, "L1H0", ["L0H2"]));
        var senders = PathPatching.Senders(model, task, ["logits"]);
        Assert.Equal(0.0, senders[1, 0] - PathPatching.Effect(model, task, "L1H0", ["logits"]), 1e-12);
    }

    /// <summary>
    /// Techniques §3.6: with the logits as the only receiver and ln_final's scale frozen at the clean run's, path patching a
    /// sender is exactly the change in its direct logit attribution: Δ(its write) read along γ ⊙ u, centred, over σ_clean.
    /// </summary>
    [Fact]
    public void PathPatchingIntoTheLogitsWithTheFinalScaleFrozenIsTheSendersChangeInDla()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        MetricTarget[] targets = [new(0, 7, [3], [11]), new(1, 7, [4], [12])];
        using var task = new PatchingTask("tiny", TinyModels.Tokens(2, 8), TinyModels.Tokens(2, 8, seed: 9), new PatchMetric(MetricKind.LogitDiff, targets));
        var (_, clean) = model.RunWithCache(task.Clean, "ln_final.hook_scale,blocks.0.attn.hook_result");
        var (_, corrupted) = model.RunWithCache(task.Corrupted, "blocks.0.attn.hook_result");
        using (clean)
        using (corrupted)
        {
            var scale = clean["ln_final.hook_scale"].clone();
            double path;
            using (model.Hooks.Add("ln_final.hook_scale", (_, _) => scale)) path = PathPatching.Effect(model, task, "L0H1", ["logits"]);

            var (u, _) = DirectLogitAttribution.Readout(model, targets);
            var g = u * model.LnFinal.W;
            g = g - g.mean(new long[] { -1 }, keepdim: true);
            var items = tensor(targets.Select(t => (long)t.Item).ToArray());
            var positions = tensor(targets.Select(t => (long)t.Position).ToArray());
            var change = (corrupted["blocks.0.attn.hook_result"] - clean["blocks.0.attn.hook_result"]).index(items, positions)[.., 1];
            double dla = (change * g / scale.index(items, positions)).sum(-1).mean().item<double>();
            Assert.Equal(dla, path, 10);
            Assert.True(Math.Abs(dla) > 1e-3, "a trivial change would make the check vacuous");
        }
    }

    [Fact]
    public void RestoringTheCleanEmbeddingAtTheSubjectGivesTheCleanMetric()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        var metric = new PatchMetric(MetricKind.Probability, [new MetricTarget(0, 7, [3], []), new MetricTarget(1, 7, [4], [])]);
        var report = CausalTracing.Run(model, TinyModels.Tokens(2, 8), metric, [2], samples: 2);
        Assert.Equal(report.Clean, report.Values[0, 2], 1e-6);
        Assert.True(Math.Abs(report.Clean - report.Corrupted) > 1e-4, "3σ noise on the subject must change the prediction");
        Assert.Equal(report.Corrupted, report.Values[0, 5], 1e-6); // restoring an untouched position before any layer changes nothing
    }
}
