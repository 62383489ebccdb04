using Glassbox.Probing;
using Glassbox.Tests.ModelZoo;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

public class MlpProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void AnXorConceptIsReadByTheMlpProbeButNotByALinearOne()
    {
        using var scope = NewDisposeScope();
        var (x, y) = PlantedData.CreateXor(1200, 16, 3.0, seed: 7);
        var (train, test) = ProbeSweep.Split(1200, 0.3, seed: 1);
        var (trainIdx, testIdx) = (tensor(train.Select(i => (long)i).ToArray()), tensor(test.Select(i => (long)i).ToArray()));
        var (yTrain, yTest) = (train.Select(i => y[i]).ToArray(), test.Select(i => y[i]).ToArray());
        using var linear = LinearProbe.Train(x[trainIdx], yTrain, 2);
        using var mlp = MlpProbe.Train(x[trainIdx], yTrain, 2);
        double linearAccuracy = linear.Accuracy(x[testIdx], yTest), mlpAccuracy = mlp.Accuracy(x[testIdx], yTest);
        output.WriteLine($"XOR concept, held-out accuracy: linear {linearAccuracy:F3}, MLP {mlpAccuracy:F3} after {mlp.StepsTaken} steps");
        Assert.InRange(linearAccuracy, 0.4, 0.6);
        Assert.True(mlpAccuracy >= 0.9, $"MLP held-out accuracy {mlpAccuracy:F3}");
    }

    /// <summary>
    /// ioi-gpt2-4l, the answer's name set (IO token id parity) at the end position, control labels keyed on the IO name. An MLP
    /// trained a fixed number of steps fits its training set perfectly from layer 1 on, which the linear probe does not
    /// (measured train accuracy 1.000 vs 0.940 / 0.964 / 0.976). Hewitt &amp; Liang's higher control accuracy for MLPs did
    /// not hold robustly on this small data (see docs/lens.md), so it is printed, not asserted.
    /// </summary>
    [Fact]
    public void ProbeSweepRunsMlpProbesThatFitTheirTrainingSetBetter()
    {
        using var zoo = new ZooModel("ioi-gpt2-4l");
        var prompts = new Glassbox.Datasets.IoiDataset(zoo.Tokenizer).Generate(240, 11);
        var ids = prompts.Select(p => p.Ids[..(p.EndPosition + 1)].Select(i => (long)i).ToArray()).ToArray();
        var labels = prompts.Select(p => p.IoToken % 2).ToArray();
        var keys = prompts.Select(p => p.IoToken).ToArray();
        var linear = ProbeSweep.Run(zoo.Model, ids, labels, new ProbeSweepOptions { Hook = "resid_pre" }, keys);
        var mlp = ProbeSweep.Run(zoo.Model, ids, labels,
            new ProbeSweepOptions { Hook = "resid_pre", Kind = ProbeKind.Mlp, Mlp = new MlpProbeTraining { ValidationFraction = 0 } }, keys);
        output.WriteLine(linear.ToText());
        output.WriteLine(mlp.ToText());
        Assert.StartsWith("mlp probes", mlp.Grid.Title);
        for (int l = 1; l < 4; l++)
        {
            Assert.True(mlp.TrainAccuracy[l] >= 0.99, mlp.ToText());
            Assert.True(mlp.TrainAccuracy[l] > linear.TrainAccuracy[l], $"layer {l}: MLP {mlp.TrainAccuracy[l]:F3}, linear {linear.TrainAccuracy[l]:F3}");
        }
    }
}
