using Glassbox.Models;
using Glassbox.Probing;
using Glassbox.Tests.ModelZoo;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

/// <summary>The technique reference's probe recipe: λ by cross-validation over 1e-4 … 1e2 with L-BFGS, and the random-model baseline.</summary>
public class ProbeCrossValidationTests(ITestOutputHelper output)
{
    static readonly ProbeTraining Reference = new() { Optimizer = ProbeOptimizer.Lbfgs, L2Grid = ProbeTraining.ReferenceGrid };

    [Fact]
    public void WithFewExamplesInManyDimensionsCrossValidationRegularisesAndGeneralisesBetter()
    {
        using var scope = NewDisposeScope();
        // 60 training examples in 40 dimensions, a planted direction of strength 1 (Bayes accuracy 0.84): λ = 1e-4 fits noise.
        var (x, y, _) = PlantedData.Create(4060, 40, 1.0, seed: 21);
        var (train, fresh) = (x[..60], x[60..]);
        int[] yTrain = y[..60], yFresh = y[60..];
        using var weak = LinearProbe.Train(train, yTrain, 2, new ProbeTraining { Optimizer = ProbeOptimizer.Lbfgs, L2 = 1e-4 });
        using var chosen = LinearProbe.Train(train, yTrain, 2, Reference);
        double weakAccuracy = weak.Accuracy(fresh, yFresh), chosenAccuracy = chosen.Accuracy(fresh, yFresh);
        output.WriteLine($"λ chosen {chosen.L2:G}; accuracy on 4,000 fresh examples {chosenAccuracy:F3} vs λ = 1e-4 {weakAccuracy:F3}");
        Assert.Contains(chosen.L2, ProbeTraining.ReferenceGrid);
        Assert.True(chosen.L2 >= 1e-2, $"λ {chosen.L2}");
        Assert.True(chosenAccuracy >= weakAccuracy + 0.02, $"{chosenAccuracy:F3} vs {weakAccuracy:F3}");
    }

    [Fact]
    public void PermutedLabelsGiveChanceAccuracyWithinThreeStandardErrors()
    {
        using var scope = NewDisposeScope();
        var (x, y, _) = PlantedData.Create(600, 32, 2.0, seed: 22);
        var permuted = y.ToArray();
        new Random(5).Shuffle(permuted);
        var (train, test) = ProbeSweep.Split(600, 0.5, seed: 3);
        var idx = (int[] rows) => tensor(rows.Select(i => (long)i).ToArray());
        using var probe = LinearProbe.Train(x[idx(train)], train.Select(i => permuted[i]).ToArray(), 2, Reference);
        double accuracy = probe.Accuracy(x[idx(test)], test.Select(i => permuted[i]).ToArray());
        double se = Math.Sqrt(0.25 / test.Length);
        output.WriteLine($"permuted labels: held-out accuracy {accuracy:F3} (chance 0.5 ± 3·{se:F3}), λ {probe.L2:G}");
        Assert.InRange(accuracy, 0.5 - 3 * se, 0.5 + 3 * se);
    }

    [Fact]
    public void TheRandomModelBaselineIsTheSameSweepOnSeededRandomWeights()
    {
        using var zoo = new ZooModel("ioi-gpt2-4l");
        var prompts = new Glassbox.Datasets.IoiDataset(zoo.Tokenizer).Generate(40, 7);
        var ids = prompts.Select(p => p.Ids.Select(i => (long)i).ToArray()).ToArray();
        var labels = prompts.Select(p => (int)(p.IoToken % 2)).ToArray();
        var options = new ProbeSweepOptions { Seed = 4, RandomModelBaseline = true };
        var report = ProbeSweep.Run(zoo.Model, ids, labels, options);
        using var weights = RandomInit.Create(zoo.Model.Config, 4);
        using var random = new HookedTransformer(zoo.Model.Config, weights);
        var direct = ProbeSweep.Run(random, ids, labels, options with { RandomModelBaseline = false });
        output.WriteLine($"IO parity: trained {string.Join(" / ", report.TestAccuracy.Select(a => a.ToString("F2")))}, random {string.Join(" / ", report.RandomModelAccuracy!.Select(a => a.ToString("F2")))}");
        Assert.Equal(direct.TestAccuracy, report.RandomModelAccuracy);
        Assert.Null(report.Lambda); // a fixed λ is not reported as chosen
        Assert.Contains("random_model_test_accuracy", report.ToCsv().Split('\n')[0]);
    }
}
