using Glassbox.Probing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

public class LinearProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void APlantedDirectionIsRecoveredOnHeldOutData()
    {
        using var scope = NewDisposeScope();
        var (x, y, _) = PlantedData.Create(800, 32, 2.0, seed: 5);
        var (train, test) = ProbeSweep.Split(800, 0.3, seed: 1);
        using var probe = LinearProbe.Train(x[tensor(train.Select(i => (long)i).ToArray())], train.Select(i => y[i]).ToArray(), 2);
        double accuracy = probe.Accuracy(x[tensor(test.Select(i => (long)i).ToArray())], test.Select(i => y[i]).ToArray());
        output.WriteLine($"planted direction: held-out accuracy {accuracy:F3}");
        Assert.True(accuracy >= 0.95, $"held-out accuracy {accuracy:F3}");
    }

    [Fact]
    public void AfterLeaceAFreshProbeIsAtChance()
    {
        using var scope = NewDisposeScope();
        var (x, y, _) = PlantedData.Create(1200, 32, 2.0, seed: 6);
        var (train, test) = ProbeSweep.Split(1200, 0.3, seed: 2);
        var trainIdx = tensor(train.Select(i => (long)i).ToArray());
        var testIdx = tensor(test.Select(i => (long)i).ToArray());
        var yTrain = train.Select(i => y[i]).ToArray();
        var yTest = test.Select(i => y[i]).ToArray();
        using var eraser = Leace.Fit(x[trainIdx], yTrain);
        Assert.Equal(1, eraser.Rank);
        var erased = eraser.Apply(x);

        using var probe = LinearProbe.Train(erased[trainIdx], yTrain, 2);
        double chance = yTest.Average(v => v == 1 ? 1.0 : 0.0);
        chance = Math.Max(chance, 1 - chance);
        double accuracy = probe.Accuracy(erased[testIdx], yTest);
        output.WriteLine($"after LEACE: held-out accuracy {accuracy:F3}, chance {chance:F3}");
        Assert.True(Math.Abs(accuracy - chance) <= 0.05, $"accuracy after LEACE {accuracy:F3}, chance {chance:F3}");

        // LEACE's invariants on the data it was fitted on: no covariance with the concept, the mean kept, idempotent.
        var xt = x[trainIdx].to(ScalarType.Float64);
        var rt = eraser.Apply(xt);
        var z = tensor(yTrain.Select(v => (double)v).ToArray());
        var cov = matmul((rt - rt.mean([0])).t(), z - z.mean()) / yTrain.Length;
        Assert.True(cov.abs().max().item<double>() < 1e-9);
        Assert.True((rt.mean([0]) - xt.mean([0])).abs().max().item<double>() < 1e-9);
        Assert.True((eraser.Apply(rt) - rt).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void ControlLabelsAreFixedPerWordTypeAndDrawnFromTheLabels()
    {
        var keys = new[] { 5, 7, 5, 9, 7, 5 };
        var labels = new[] { 0, 1, 2, 0, 1, 2 };
        var control = ProbeSweep.ControlLabels(keys, labels, seed: 3);
        Assert.Equal(control[0], control[2]);
        Assert.Equal(control[0], control[5]);
        Assert.Equal(control[1], control[4]);
        Assert.All(control, c => Assert.Contains(c, labels));
        Assert.Equal(control, ProbeSweep.ControlLabels(keys, labels, seed: 3));
    }
}
