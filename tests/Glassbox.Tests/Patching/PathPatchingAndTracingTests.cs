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
