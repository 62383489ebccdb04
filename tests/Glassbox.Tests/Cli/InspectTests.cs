namespace Glassbox.Tests.Cli;

public class InspectTests
{
    [Fact]
    public void InspectShowsPredictionsLensAndHeadsOnTheZooModel()
    {
        var model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");
        var (exit, stdout, stderr) = CliHarness.Run("inspect", "--model", model);
        Assert.True(exit == 0, stderr);
        Assert.Contains("next-token predictions", stdout);
        Assert.Contains("logit lens", stdout);
        Assert.Contains("heads that matter", stdout);
        // The default prompt is IOI: "When Mary and John went to the store , John gave a drink to" → Mary.
        var firstPrediction = stdout.Split('\n').SkipWhile(l => !l.Contains("next-token predictions")).Skip(4).First();
        Assert.Contains("'Mary'", firstPrediction);
        Assert.Contains("L0H2", stdout); // the head the answer depends on most (its card's evidence)
    }

    [Fact]
    public void InspectWithoutATokenizerIsAClearError()
    {
        var (exit, _, stderr) = CliHarness.Run("inspect", "--model", Path.Combine(SharedModels.RepoRoot, "models", "nope"));
        Assert.Equal(2, exit);
        Assert.Contains("no such file or directory", stderr);
    }
}
