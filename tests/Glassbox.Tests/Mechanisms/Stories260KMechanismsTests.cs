using Glassbox.Datasets;
using Glassbox.Loading;
using Glassbox.Mechanisms;
using static TorchSharp.torch;

namespace Glassbox.Tests.Mechanisms;

/// <summary>The report on a real model, stories260K: its numbers are checked against independent measurements, not against hoped-for heads.</summary>
public class Stories260KMechanismsTests
{
    [SharedFact]
    public void ReportBacksInductionScoresWithTheMeasuredLossAndReportsSinkMassPerLayer()
    {
        using var model = ModelLoader.Load(SharedModels.Stories260K);
        var tokenizer = ModelLoader.FindTokenizer(SharedModels.Stories260K, model.Config, SharedModels.Stories260KTokenizer)!;
        var options = new MechanismOptions { Sequences = 4, Seed = 3 };
        var r = MechanismDetector.Run(model, tokenizer, options);

        var data = new InductionDataset(tokenizer, options.HalfLength);
        var sequences = data.Generate(options.Sequences, options.Seed);
        var (first, second) = TaskMetrics.InductionLosses(model, data, sequences);
        Assert.Equal(first, r.InductionLoss.FirstHalf, 6);
        Assert.Equal(second, r.InductionLoss.SecondHalf, 6);

        // Sink mass per layer: the mean over heads of mean_{i≥1} A[i, 0], measured here directly.
        using var scope = NewDisposeScope();
        var tokens = tensor(sequences.SelectMany(s => s).ToArray(), new long[] { sequences.Length, data.SequenceLength });
        var (_, cache) = model.RunWithCache(tokens, "blocks.*.attn.hook_pattern");
        using (cache)
            for (int l = 0; l < model.Config.NLayers; l++)
                Assert.Equal(cache["pattern", l][.., .., 1.., 0].mean().item<float>(), r.SinkMassPerLayer[l], 4);

        // Every induction flag carries its measured ablation effect, and the group's clean loss is the measured repeat loss.
        var induction = r.Score("induction");
        var ablation = r.Score("zero-ablation Δ repeat loss");
        foreach (var head in r.Labelled("induction"))
        {
            Assert.Equal(induction[head.Layer, head.Head], head.Score);
            Assert.Equal(ablation[head.Layer, head.Head], head.EvidenceValue);
        }
        Assert.All(r.Groups, g => Assert.Equal(second, g.Clean, 6));
        Assert.Equal(model.Config.NLayers + 1, r.Residual.MeanNorm.Length);
        Assert.Equal(model.Config.NLayers, r.DeadNeurons!.PerLayer.Length);
    }

    /// <summary>
    /// With a text probe, the previous-token, fixed-offset and sink scores are those of the text windows (measured here directly)
    /// and say so in their names; the repeated-token scores (induction) stay those of the random sequences.
    /// </summary>
    [SharedFact]
    public void ATextProbeMeasuresTheTextDefinedScoresOnTheText()
    {
        using var model = ModelLoader.Load(SharedModels.Stories260K);
        var tokenizer = ModelLoader.FindTokenizer(SharedModels.Stories260K, model.Config, SharedModels.Stories260KTokenizer)!;
        var windows = Glassbox.Features.TokenCorpus.FromText(tokenizer, File.ReadAllText(SharedModels.Path("data", "tinyshakespeare.txt"))[..20_000], 64, 8);
        var plain = MechanismDetector.Run(model, tokenizer, new MechanismOptions { Sequences = 4, Ablations = false });
        var r = MechanismDetector.Run(model, tokenizer, new MechanismOptions { Sequences = 4, Ablations = false, Text = windows });

        using var scope = NewDisposeScope();
        var (_, cache) = model.RunWithCache(tensor(windows.SelectMany(w => w).ToArray(), new long[] { windows.Count, 64 }), "blocks.*.attn.hook_pattern");
        using (cache)
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                var previous = AttentionPatternScores.Offset(cache["pattern", l], 1, 1);
                var sink = AttentionPatternScores.SinkMass(cache["pattern", l]);
                for (int h = 0; h < model.Config.NHeads; h++)
                {
                    Assert.Equal(previous[h], r.Score("previous-token (text)")[l, h], 12);
                    Assert.Equal(sink[h], r.Score("attention-sink mass (text)")[l, h], 12);
                }
            }
        Assert.Equal(plain.Score("induction").Values, r.Score("induction").Values);
        Assert.NotEqual(plain.Score("previous-token").Values, r.Score("previous-token (text)").Values);
        Assert.Throws<GlassboxException>(() => MechanismDetector.Run(model, tokenizer, new MechanismOptions { Text = [[1, 2, 3], [1, 2]] }));
    }
}
