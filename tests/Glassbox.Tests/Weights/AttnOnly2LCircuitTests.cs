using Glassbox.Tests.ModelZoo;
using Glassbox.Weights;

namespace Glassbox.Tests.Weights;

/// <summary>attn-only-2l's card, read from the weights alone: induction heads K-compose with a previous-token head and copy.</summary>
public class AttnOnly2LCircuitTests(AttnOnly2LFixture f) : IClassFixture<AttnOnly2LFixture>
{
    [Fact]
    public void InductionHeadsKComposeMostWithAPreviousTokenHeadAndCopy()
    {
        var overview = WeightsOverview.Compute(f.Zoo.Model);
        var k = overview.Composition.K;
        int[] previousTokenHeads = [0, 2]; // card: L0H0, L0H2
        for (int h = 0; h < 4; h++)
        {
            var top = CompositionScores.TopWriter(k, 4, 1, h);
            Assert.Contains(top.Head, previousTokenHeads);
            Assert.True(top.Score > overview.Composition.Baseline, $"L1H{h}: top K-composition {top.Score} vs baseline {overview.Composition.Baseline}");
            Assert.True(overview.Copying[1, h] > 0, $"L1H{h} copying score {overview.Copying[1, h]}");
        }
    }

    [Fact]
    public void HeadReportListsTopPairsInOrder()
    {
        var report = HeadCircuitReport.Compute(f.Zoo.Model, f.Zoo.Tokenizer, 1, 0, top: 5);
        Assert.Equal(5, report.TopOv.Count);
        Assert.True(report.TopOv.Zip(report.TopOv.Skip(1)).All(p => p.First.Value >= p.Second.Value));
        Assert.True(report.OvSingularValues.Length == 32 && report.OvSingularValues[0] >= report.OvSingularValues[^1]);
        Assert.Contains("full OV", report.ToText());
    }
}
