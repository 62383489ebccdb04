using Glassbox.Probing;
using Glassbox.Tests.ModelZoo;
using Xunit.Abstractions;

namespace Glassbox.Tests.Probing;

public class ProbeSweepTests(ITestOutputHelper output)
{
    /// <summary>
    /// Hewitt &amp; Liang's warning, measured: on attn-only-2l, a lexical label (is the last token among 20 of 40 word types?)
    /// is decoded well above chance, but the control task (a random label per word type) is decoded just as well, so
    /// selectivity is near zero: the probe memorises word types rather than reading a property.
    /// </summary>
    [Fact]
    public void ALexicalLabelIsDecodedButHasNoSelectivity()
    {
        using var zoo = new ZooModel("attn-only-2l");
        var random = new Random(11);
        var types = Enumerable.Range(10, 40).ToArray();
        var prompts = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, 6).Select(_ => (long)types[random.Next(types.Length)]).ToArray()).ToArray();
        var report = ProbeSweep.Run(zoo.Model, prompts, prompts.Select(p => p[^1] < 30 ? 1 : 0).ToArray(),
            new ProbeSweepOptions { Seed = 1, Training = new ProbeTraining { Steps = 100 } });
        output.WriteLine(report.ToText());
        Assert.Equal(2, report.Layers);
        Assert.InRange(report.MajorityBaseline, 0.3, 0.7);
        Assert.All(report.TestAccuracy, a => Assert.True(a >= 0.7, report.ToText())); // chance is about 0.5
        Assert.All(report.Selectivity, s => Assert.True(Math.Abs(s) <= 0.15, report.ToText()));
    }

    [Fact]
    public void AnUnknownHookIsAClearError()
    {
        using var zoo = new ZooModel("attn-only-2l");
        var e = Assert.Throws<GlassboxException>(() => ProbeSweep.Run(zoo.Model, [[1, 2], [2, 3], [3, 4], [4, 5]], [0, 1, 0, 1],
            new ProbeSweepOptions { Hook = "mlp_out" }));
        Assert.Contains("blocks.0.hook_mlp_out", e.Message);
    }
}
