using Glassbox.Datasets;
using Glassbox.Mechanisms;
using Glassbox.Tests.ModelZoo;

namespace Glassbox.Tests.Mechanisms;

/// <summary>One zoo model and its mechanisms report, computed once per test class (small probes keep it to seconds).</summary>
public abstract class ZooReportFixture : IDisposable
{
    protected ZooReportFixture(string name, MechanismOptions options)
    {
        Zoo = new ZooModel(name);
        Report = MechanismDetector.Run(Zoo.Model, Zoo.Tokenizer, options);
    }

    public ZooModel Zoo { get; }
    public MechanismsReport Report { get; }
    public void Dispose() => Zoo.Dispose();
}

/// <summary>The mechanisms report on the zoo: the heads each model card names, with the card's labels and ablation evidence.</summary>
public class AttnOnly2LMechanismsTests(AttnOnly2LMechanismsTests.Fixture f) : IClassFixture<AttnOnly2LMechanismsTests.Fixture>
{
    public sealed class Fixture() : ZooReportFixture("attn-only-2l", new MechanismOptions { Sequences = 8, IoiPrompts = 40 });

    static string[] Heads(MechanismsReport r, string label) => [.. r.Labelled(label).Select(x => x.Name).Order()];

    [Fact]
    public void FindsTheCardsPreviousTokenAndInductionHeads()
    {
        var r = f.Report;
        Assert.Equal(["L0H0", "L0H2"], Heads(r, "previous-token"));                // card: 0.771, 0.672
        Assert.Equal(["L1H0", "L1H1", "L1H2", "L1H3"], Heads(r, "induction"));      // card: 0.866–0.889
        Assert.Contains(r.Labelled("fixed-offset"), x => x.Name == "L0H1" && x.Detail == "δ = 0"); // card: current-token head
        Assert.Null(r.Ioi);                                                         // the model does no IOI
    }

    [Fact]
    public void AblationEvidenceAgreesWithTheCard()
    {
        var r = f.Report;
        Assert.InRange(r.InductionLoss.SecondHalf, 0.15, 0.35);                     // card: 0.239
        Assert.True(r.InductionLoss.Drop > 5);                                      // card: 11.61 → 0.228
        // Each induction head alone changes nothing (redundant, card ≤ 0.012); all four together destroy copying (card: → 6.90).
        foreach (var head in r.Labelled("induction"))
        {
            Assert.True(Math.Abs(head.EvidenceValue!.Value) < 0.05, $"{head.Name}: {head.EvidenceValue}");
            Assert.Equal("does, with its group", head.Verdict);
            Assert.StartsWith("top K-composition L0H0", head.Detail);                // a previous-token head
        }
        var induction = Assert.Single(r.Groups, g => g.Label == "induction");
        Assert.True(induction.Ablated > 5.5, $"{induction.Ablated}");
        var previous = Assert.Single(r.Groups, g => g.Label == "previous-token");
        Assert.True(previous.Ablated > 9, $"{previous.Ablated}");                    // card: 11.91
        Assert.Equal("does", r.Labelled("previous-token").Single(x => x.Name == "L0H0").Verdict); // card: +0.464 alone
    }

    [Fact]
    public void ReportsRenderEveryScore()
    {
        var r = f.Report;
        Assert.Equal(r.Scores.Count, r.Heatmaps.Count);
        Assert.Contains("\"sinkMassPerLayer\"", r.ToJson());
        Assert.Equal(r.Findings.Count + 1, r.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(2, r.SinkMassPerLayer.Length);
    }
}

public class IoiGpt2MechanismsTests(IoiGpt2MechanismsTests.Fixture f) : IClassFixture<IoiGpt2MechanismsTests.Fixture>
{
    /// <summary>The IOI probe is the card's: 200 prompts, seed 4242.</summary>
    public sealed class Fixture() : ZooReportFixture("ioi-gpt2-4l", new MechanismOptions { Sequences = 4 });

    [Fact]
    public void FindsTheCardsHeadsWithTheirLabelsAndAblationEffects()
    {
        var r = f.Report;
        Assert.NotNull(r.Ioi);
        Assert.InRange(r.Ioi.LogitDiff, 3.6, 3.75);                                               // card: 3.683
        var movers = r.Labelled("IOI S-suppression mover").ToDictionary(x => x.Name);
        Assert.Equal(["L1H0", "L1H3", "L2H0"], movers.Keys.Order());
        // card: direct effect +1.68 / +0.91 / +0.40, mean-ablation −2.14 / −1.35 / −0.45
        Assert.InRange(movers["L2H0"].Score, 1.6, 1.76); Assert.InRange(movers["L2H0"].EvidenceValue!.Value, -2.25, -2.05);
        Assert.InRange(movers["L1H3"].Score, 0.85, 0.97); Assert.InRange(movers["L1H3"].EvidenceValue!.Value, -1.45, -1.25);
        Assert.InRange(movers["L1H0"].Score, 0.35, 0.45); Assert.InRange(movers["L1H0"].EvidenceValue!.Value, -0.55, -0.35);
        Assert.Equal(["L0H0", "L0H3"], r.Labelled("IOI previous-token at S2").Select(x => x.Name).Order());       // card: 0.569, 0.529
        Assert.Equal(["L0H0", "L0H1", "L0H2"], r.Labelled("IOI name carrier").Select(x => x.Name).Order());
        var upstream = r.Labelled("IOI upstream").ToDictionary(x => x.Name);
        Assert.InRange(upstream["L0H0"].EvidenceValue!.Value, -2.55, -2.3);                                  // card: −2.43
        Assert.InRange(upstream["L0H3"].EvidenceValue!.Value, -1.55, -1.3);                                  // card: −1.43
    }
}

public class IoiLlamaMechanismsTests(IoiLlamaMechanismsTests.Fixture f) : IClassFixture<IoiLlamaMechanismsTests.Fixture>
{
    /// <summary>The IOI probe is the card's: 200 prompts, seed 4242.</summary>
    public sealed class Fixture() : ZooReportFixture("ioi-llama-4l", new MechanismOptions { Sequences = 4 });

    [Fact]
    public void FindsTheCardsHeadsWithTheirLabelsAndAblationEffects()
    {
        var r = f.Report;
        Assert.NotNull(r.Ioi);
        Assert.InRange(r.Ioi.LogitDiff, 8.7, 9.1);                                                // card: 8.891
        var writers = r.Findings.Where(x => x.Label is "IOI direct writer" or "IOI S-suppression mover").ToDictionary(x => x.Name);
        Assert.Equal(["L1H2", "L1H3"], writers.Keys.Order());
        Assert.InRange(writers["L1H2"].Score, 0.78, 0.87); Assert.InRange(writers["L1H2"].EvidenceValue!.Value, -7.4, -6.8); // card: +0.825, −7.09
        Assert.InRange(writers["L1H3"].Score, 0.34, 0.43); Assert.InRange(writers["L1H3"].EvidenceValue!.Value, -2.2, -1.8); // card: +0.388, −2.00
        var upstream = r.Labelled("IOI upstream").ToDictionary(x => x.Name);
        Assert.InRange(upstream["L0H1"].EvidenceValue!.Value, -8.2, -7.6);                                   // card: −7.93, the essential one
        Assert.Equal(upstream["L0H1"].EvidenceValue, upstream.Values.Min(x => x.EvidenceValue));
        // card: relative-position heads L0H0, L0H2, L0H3 read the token after S2 from the end (0.994 / 0.950 / 0.997)
        Assert.Equal(["L0H0", "L0H2", "L0H3"], r.Labelled("IOI END→S2+1 reader").Select(x => x.Name).Where(n => n.StartsWith("L0")).Order());
        Assert.Contains(r.Labelled("IOI previous-token at S2"), x => x.Name == "L2H1");                     // card: 0.663
    }
}
