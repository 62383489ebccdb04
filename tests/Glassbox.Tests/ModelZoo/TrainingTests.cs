using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Training;
using Glassbox.Training.Recipes;

namespace Glassbox.Tests.ModelZoo;

public class TrainingTests
{
    /// <summary>The training code works, not just the committed weights: a short attn-only-2l run (rows of 41, repeats of ≤ 20) learns to copy.</summary>
    [Fact]
    public void ShortAttnOnlyRunLowersTheRepeatLossWellBelowTheFirstHalf()
    {
        var recipe = new AttnOnly2L(rowLength: 41, maxSegment: 20);
        var tokenizer = ZooVocabulary.CreateTokenizer();
        var cfg = recipe.Config(tokenizer);
        using var init = RandomInit.Create(cfg, seed: 0);
        using var model = new HookedTransformer(cfg, init);
        var data = new InductionDataset(tokenizer, halfLength: 15);
        var probe = data.Generate(64, seed: 7);
        var before = TaskMetrics.InductionLosses(model, data, probe);

        var result = Trainer.Train(model, step => recipe.Batch(tokenizer, step), recipe.EvalBatch(tokenizer), recipe.Options(800));

        var after = TaskMetrics.InductionLosses(model, data, probe);
        Assert.True(Math.Abs(before.SecondHalf - before.FirstHalf) < 0.1, $"untrained: first {before.FirstHalf:F2}, repeat {before.SecondHalf:F2}");
        Assert.True(after.SecondHalf < after.FirstHalf - 1.0, $"trained: first {after.FirstHalf:F2}, repeat {after.SecondHalf:F2}");
        Assert.True(result.FinalEvalLoss < result.History[0].EvalLoss, "the held-out loss fell");
    }

    [Fact]
    public void LearningRateWarmsUpThenDecaysToTheFloor()
    {
        var o = new TrainingOptions { Steps = 1000, LearningRate = 1e-3, WarmupSteps = 100, MinLearningRateFraction = 0.1 };
        Assert.Equal(1e-5, Trainer.LearningRate(1, o), 12);
        Assert.Equal(1e-3, Trainer.LearningRate(100, o), 12);
        Assert.Equal(0.55e-3, Trainer.LearningRate(550, o), 12);
        Assert.Equal(1e-4, Trainer.LearningRate(1000, o), 12);
    }

    [Fact]
    public void TrainingIsDeterministicGivenTheSeed()
    {
        var recipe = new AttnOnly2L(rowLength: 21, maxSegment: 8);
        var tokenizer = ZooVocabulary.CreateTokenizer();
        double Run()
        {
            using var init = RandomInit.Create(recipe.Config(tokenizer), seed: 3);
            using var model = new HookedTransformer(recipe.Config(tokenizer), init);
            return Trainer.Train(model, step => recipe.Batch(tokenizer, step), null, recipe.Options(5)).FinalLoss;
        }
        Assert.Equal(Run(), Run());
    }
}
