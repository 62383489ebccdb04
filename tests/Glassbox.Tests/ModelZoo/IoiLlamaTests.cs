using Glassbox.Training.Recipes;

namespace Glassbox.Tests.ModelZoo;

/// <summary>Re-measures models/ioi-llama-4l/MODEL_CARD.md: task metrics and the ground truth established by ablation.</summary>
public class IoiLlamaTests(IoiLlamaFixture f) : IClassFixture<IoiLlamaFixture>
{
    [Fact]
    public void TaskMetricsMatchTheCard()
    {
        // card: IOI 100 %, logit diff 9.429; greater-than 100 %, probability difference 0.877
        f.Probe.AssertTaskMetrics(new IoiLlama4L(), logitDiff: (9.1, 9.75), probabilityDifference: (0.84, 0.91));
    }

    [Fact]
    public void DirectWritersAndPositionalHeadsMatchTheCard()
    {
        var direct = f.Probe.DirectEffects();
        Assert.Equal((1, 2), (direct.Top().Layer, direct.Top().Head));                             // card: +0.825
        Assert.InRange(direct[1, 2], 0.65, 1.0);
        Assert.InRange(direct[1, 3], 0.28, 0.5);                                                   // card: +0.388
        Assert.InRange(direct[0, 1], -0.1, 0.1);                                                   // card: 0.009 (acts only indirectly)
        var attention = f.Probe.EndToAfterS2();
        foreach (var h in new[] { 0, 2, 3 }) Assert.True(attention[0, h] > 0.9, $"L0H{h} END→S2+1 {attention[0, h]}"); // card: 0.994, 0.950, 0.997
    }

    [Fact]
    public void AblationsMatchTheCard()
    {
        Assert.InRange(f.Probe.LogitDiff(), 8.6, 9.2);                                             // card: 8.891 on the probe
        Assert.InRange(f.Probe.MeanAblationEffect(0, 1), -8.6, -7.2);                              // card: −7.93
        Assert.InRange(f.Probe.MeanAblationEffect(1, 2), -7.8, -6.4);                              // card: −7.09
        Assert.InRange(f.Probe.MeanAblationEffect(1, 3), -2.5, -1.5);                              // card: −2.00
        Assert.InRange(f.Probe.MeanAblationEffect(0, 3), -3.9, -2.8);                              // card: −3.34
        Assert.InRange(f.Probe.MeanAblationEffect(2, 0), -2.2, -1.2);                              // card: −1.71
        Assert.InRange(f.Probe.MeanAblationEffect(3, 1), -0.2, 0.2);                               // card: −0.010 (no role)
    }
}
