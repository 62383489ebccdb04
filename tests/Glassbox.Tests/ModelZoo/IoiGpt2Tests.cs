using Glassbox.Patching;
using Glassbox.Training.Recipes;

namespace Glassbox.Tests.ModelZoo;

/// <summary>Re-measures models/ioi-gpt2-4l/MODEL_CARD.md: task metrics and the ground truth established by ablation.</summary>
public class IoiGpt2Tests(IoiGpt2Fixture f) : IClassFixture<IoiGpt2Fixture>
{
    [Fact]
    public void TaskMetricsMatchTheCard()
    {
        // card: IOI 94.5 %, logit diff 4.027; greater-than 100 %, probability difference 0.827
        f.Probe.AssertTaskMetrics(new IoiGpt2_4L(), logitDiff: (3.8, 4.25), probabilityDifference: (0.78, 0.87));
    }

    [Fact]
    public void SubjectSuppressionHeadsMatchTheCard()
    {
        var direct = f.Probe.DirectEffects();
        Assert.Equal((2, 0), (direct.Top().Layer, direct.Top().Head));                             // card: +1.68
        Assert.InRange(direct[2, 0], 1.4, 1.95);
        Assert.InRange(direct[1, 3], 0.7, 1.1);                                                    // card: +0.91
        var attention = f.Probe.EndToAfterS2();
        Assert.InRange(attention[2, 0], 0.77, 0.95);                                               // card: 0.870
        Assert.InRange(attention[1, 3], 0.68, 0.87);                                               // card: 0.775
    }

    [Fact]
    public void AblationsMatchTheCard()
    {
        Assert.InRange(f.Probe.LogitDiff(), 3.5, 3.85);                                            // card: 3.683 on the probe
        Assert.InRange(f.Probe.MeanAblationEffect(2, 0), -2.45, -1.85);                            // card: −2.14
        Assert.InRange(f.Probe.MeanAblationEffect(0, 0), -2.75, -2.1);                             // card: −2.43
        Assert.InRange(f.Probe.MeanAblationEffect(0, 3), -1.75, -1.1);                             // card: −1.43
        Assert.InRange(f.Probe.MeanAblationEffect(1, 3), -1.65, -1.05);                            // card: −1.35
        Assert.InRange(f.Probe.MeanAblationEffect(3, 1), -0.2, 0.2);                               // card: −0.006 (no role)
        // Name carriers: zero-ablation lowers log p(IO) (card: −1.95 and −1.20 from −0.217).
        double logProbIo = f.Probe.LogProbIo();
        Assert.InRange(f.Probe.LogProbIo(Ablation.ZeroHead(0, 0)) - logProbIo, -2.3, -1.6);
        Assert.InRange(f.Probe.LogProbIo(Ablation.ZeroHead(0, 2)) - logProbIo, -1.5, -0.9);
        var previous = f.Probe.PreviousAtS2();
        Assert.InRange(previous[0, 0], 0.47, 0.67);                                                // card: 0.569
        Assert.InRange(previous[0, 3], 0.43, 0.63);                                                // card: 0.529
    }
}
