using Glassbox.Datasets;
using Glassbox.Mechanisms;
using Glassbox.Patching;
using Glassbox.Training.Recipes;
using static TorchSharp.torch;

namespace Glassbox.Tests.ModelZoo;

/// <summary>Re-measures models/attn-only-2l/MODEL_CARD.md: its task metrics and its ground truth, established by ablation.</summary>
public class AttnOnly2LTests(AttnOnly2LFixture f) : IClassFixture<AttnOnly2LFixture>
{
    [Fact]
    public void TaskMetricsMatchTheCard()
    {
        var metrics = new AttnOnly2L().Evaluate(f.Zoo.Model, f.Zoo.Tokenizer);
        Assert.InRange(metrics["induction_repeat_loss"], 0.18, 0.28);       // card: 0.228
        Assert.True(metrics["induction_first_half_loss"] > 5.0);              // card: 11.61 (unpredictable tokens)
    }

    [Fact]
    public void HeadRolesMatchTheCard()
    {
        var (prev, _, induction) = AttentionPatternScores.OnRepeatedTokens(f.Zoo.Model, f.Data, f.Probe);
        Assert.InRange(prev[0, 0], 0.72, 0.82);   // card: 0.771
        Assert.InRange(prev[0, 2], 0.62, 0.72);   // card: 0.672
        for (int h = 0; h < 4; h++) Assert.InRange(induction[1, h], 0.82, 0.93); // card: 0.866–0.889
        Assert.Equal((0, 0), (prev.Top().Layer, prev.Top().Head));
        Assert.Equal(1, induction.Top().Layer);

        // L0H1 attends to the current token.
        using var scope = NewDisposeScope();
        var tokens = tensor(f.Probe.SelectMany(s => s).ToArray(), new long[] { 32, f.Data.SequenceLength });
        var (_, cache) = f.Zoo.Model.RunWithCache(tokens, "blocks.0.attn.hook_pattern");
        using (cache)
            Assert.InRange(cache["pattern", 0][.., 1].diagonal(0, 1, 2)[.., 10..].mean().item<float>(), 0.69, 0.79); // card: 0.74
    }

    [Fact]
    public void AblationsMatchTheCard()
    {
        var m = f.Zoo.Model;
        double RepeatLoss(params (string, Glassbox.Hooks.HookFn)[] hooks) => TaskMetrics.InductionLosses(m, f.Data, f.Probe, hooks).SecondHalf;
        double baseline = RepeatLoss();
        Assert.InRange(baseline, 0.19, 0.29);                                                            // card: 0.239
        Assert.True(RepeatLoss(Enumerable.Range(0, 4).Select(h => Ablation.ZeroHead(1, h)).ToArray()) > 5.5); // card: 6.90
        Assert.True(RepeatLoss(Ablation.ZeroHead(0, 0), Ablation.ZeroHead(0, 2)) > 9.0);                   // card: 11.91
        Assert.True(RepeatLoss(Ablation.ZeroHead(0, 1)) - baseline > 3.0);                                 // card: +3.90
        for (int h = 0; h < 4; h++) Assert.True(Math.Abs(RepeatLoss(Ablation.ZeroHead(1, h)) - baseline) < 0.05); // redundant: each ≤ 0.012
    }
}
