using Glassbox.Datasets;
using Glassbox.Hooks;
using Glassbox.Patching;
using Glassbox.Tests.ModelZoo;
using Glassbox.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Patching;

public class AttentionKnockoutTests(ITestOutputHelper output)
{
    /// <summary>
    /// Knocking out every source but the prediction position itself, in every layer, leaves each head attending only to
    /// itself there: the same as a pattern hook that puts the whole row on the diagonal.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("neox")]
    public void KnockingOutAllOtherSourcesEqualsAttendingOnlyToItself(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 8);
        var metric = new PatchMetric(MetricKind.LogitDiff, [new MetricTarget(0, 7, [3], [11]), new MetricTarget(1, 7, [4], [12])]);
        var others = new KnockoutSources("others", Enumerable.Range(0, 7).ToArray());
        var report = AttentionKnockout.Run(model, tokens, metric, window: model.Config.NLayers, sources: [others]);

        using var task = new PatchingTask("tiny", tokens, tokens, metric);
        HookFn diagonal = (pattern, _) =>
        {
            var y = pattern.clone();
            foreach (var t in metric.Targets)
            {
                y[t.Item, .., t.Position] = zeros_like(y[t.Item, .., t.Position]);
                y[t.Item, .., t.Position, t.Position] = ones_like(y[t.Item, .., t.Position, t.Position]);
            }
            return y;
        };
        double manual = task.Measure(model, tokens, ("blocks.*.attn.hook_pattern", diagonal));
        Assert.Equal(manual, report.Values[0, 0], 1e-9);
        Assert.True(Math.Abs(report.Values[0, 0] - report.Unpatched) > 1e-4);
        Assert.Throws<GlassboxException>(() => AttentionKnockout.Run(model, tokens, metric, sources: [new("all", Enumerable.Range(0, 8).ToArray())]));
        Assert.Throws<GlassboxException>(() => AttentionKnockout.Run(model, tokens, metric, window: 0));
    }

    /// <summary>
    /// On ioi-gpt2-4l the card's movers (L2H0, L1H3, L1H0) read the token after S2 from the end position. Cutting END → S2+1
    /// in layer 2 hurts the logit difference; in layer 3, whose heads have no IOI role, it does not; and outside layer 0
    /// (where the name carriers read the names) the most harmful single cut is always in the movers' layers 1–2.
    /// </summary>
    [Fact]
    public void OnIoiGpt2CuttingTheEndFromTheTokenAfterS2HurtsInTheMoversLayersOnly()
    {
        using var zoo = new ZooModel("ioi-gpt2-4l");
        var prompts = new IoiDataset(zoo.Tokenizer).Generate(10, 4242);
        int inMoverLayers = 0;
        var layer2 = new List<double>();
        var layer3 = new List<double>();
        foreach (var prompt in prompts)
        {
            using var task = PatchingTask.Ioi([prompt]);
            var report = AttentionKnockout.Run(zoo.Model, task.Clean, task.Metric);
            var laterCells = from l in Enumerable.Range(1, report.Values.GetLength(0) - 1) from p in Enumerable.Range(0, prompt.EndPosition + 1) select (l, p);
            inMoverLayers += laterCells.MinBy(c => report.Values[c.l, c.p]).l is 1 or 2 ? 1 : 0;
            layer2.Add(report.Values[2, prompt.S2Position + 1] - report.Unpatched);
            layer3.Add(report.Values[3, prompt.S2Position + 1] - report.Unpatched);
        }
        output.WriteLine($"END → S2+1 cut: layer 2 mean {layer2.Average():F3} (min {layer2.Min():F3}), layer 3 mean {layer3.Average():F3}; " +
                         $"most harmful cut outside layer 0 in layers 1–2 on {inMoverLayers}/{prompts.Count}");
        Assert.True(layer2.Average() < -1, $"layer 2: {layer2.Average():F3}");
        Assert.True(Math.Abs(layer3.Average()) < 0.3, $"layer 3: {layer3.Average():F3}");
        Assert.Equal(prompts.Count, inMoverLayers);
    }
}
