using System.Globalization;
using Glassbox.Bench;
using Glassbox.Bench.Suites;
using Glassbox.Loading;
using Glassbox.Tests.Families;

namespace Glassbox.Tests.Bench;

/// <summary>The families suite: its scaled configs keep every family's quirks, and its quick run reports every family (never a timing bound).</summary>
public class FamiliesSuiteTests
{
    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void AScaledConfigHasTheCommonSizeAndTheFamilysQuirks(string family)
    {
        var root = FamiliesSuite.ReferenceRoot();
        Assert.NotNull(root);
        var size = FamiliesSuite.Full;
        var (scaled, _) = FamiliesSuite.Scaled(root, family, size);
        var (reference, weights) = ModelLoader.LoadWeights(HfReferences.Dir(family));
        weights.Dispose();
        Assert.Equal((size.DModel, size.Layers, size.Heads, size.DModel / size.Heads, size.Vocab),
            (scaled.DModel, scaled.NLayers, scaled.NHeads, scaled.DHead, scaled.VocabSize));
        // Grouped-query attention in the family's ratio; multi-query (Falcon-7B) stays one kv head.
        Assert.True(scaled.NKvHeads == 1 && reference.NKvHeads == 1 || scaled.NHeads / scaled.NKvHeads == reference.NHeads / reference.NKvHeads,
            $"{family}: {scaled.NKvHeads} kv heads of {scaled.NHeads}; the reference has {reference.NKvHeads} of {reference.NHeads}");
        Assert.Equal(
            (reference.Norm, reference.PreNorms, reference.PostNorms, reference.QkNorm, reference.AttnSoftcap, reference.FinalSoftcap, reference.QkvClip,
             reference.NExperts, reference.ExpertsPerToken, reference.NormTopKProb, reference.ParallelAttnMlp, reference.GatedMlp, reference.Act,
             reference.RotaryFraction, reference.RopeScaling?.Kind, reference.LocalRotaryTheta, reference.SlidingWindow is null),
            (scaled.Norm, scaled.PreNorms, scaled.PostNorms, scaled.QkNorm, scaled.AttnSoftcap, scaled.FinalSoftcap, scaled.QkvClip,
             scaled.NExperts, scaled.ExpertsPerToken, scaled.NormTopKProb, scaled.ParallelAttnMlp, scaled.GatedMlp, scaled.Act,
             scaled.RotaryFraction, scaled.RopeScaling?.Kind, scaled.LocalRotaryTheta, scaled.SlidingWindow is null));
        if (scaled.SlidingWindow is not null) Assert.Equal(size.Window, scaled.SlidingWindow);
    }

    [SharedFact]
    public void QuickFamiliesSuiteReportsEveryFamilyAgainstLlama()
    {
        var output = new StringWriter();
        Assert.Equal(0, BenchRunner.Run(["families", "--quick"], output, TextWriter.Null));
        string report = output.ToString();
        Assert.Contains("## families", report);
        var rows = report.Split('\n').Where(l => l.StartsWith("| ")).Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray())
            .Where(c => FamiliesSuite.Families.Contains(c[0])).ToDictionary(c => c[0]);
        Assert.Equal(FamiliesSuite.Families.Order(), rows.Keys.Order());
        foreach (var (family, cells) in rows)
            foreach (int c in new[] { 3, 4, 5, 6 })
            {
                double x = double.Parse(cells[c], CultureInfo.InvariantCulture);
                Assert.True(double.IsFinite(x) && x > 0, $"{family} column {c}: {cells[c]}");
            }
        Assert.Equal(["1.000", "1.000", "1.000", "baseline"], new[] { rows["llama"][3], rows["llama"][5], rows["llama"][6], rows["llama"][8] });
        Assert.Contains("MoE: router + top-2 of 4 experts", rows["mixtral"][2]);
        Assert.Contains("attention soft-cap", rows["gemma2"][2]);
        Assert.Contains("q/k RMSNorm (joint)", rows["olmo2"][2]);
        Assert.Equal("nothing (same computation)", rows["smollm2"][2]);
    }
}
