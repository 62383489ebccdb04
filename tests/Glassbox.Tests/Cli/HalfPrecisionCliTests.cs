namespace Glassbox.Tests.Cli;

/// <summary>
/// Every command takes --dtype; reading a half-precision scalar as float32 crashed inspect (the README's main job) and the
/// mechanism detectors. A run in bfloat16 and float16 must give the float32 run's answer.
/// </summary>
public class HalfPrecisionCliTests
{
    static readonly string Model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");

    [Theory]
    [InlineData("bfloat16")]
    [InlineData("float16")]
    public void InspectInHalfPrecisionPredictsWhatFloat32Predicts(string dtype)
    {
        var (exit, stdout, stderr) = CliHarness.Run("inspect", "--model", Model, "--dtype", dtype);
        Assert.True(exit == 0, stderr);
        string FirstPrediction(string text) => text.Split('\n').First(l => l.StartsWith("│ '")).Split('\'')[1];
        var (_, reference, _) = CliHarness.Run("inspect", "--model", Model);
        Assert.Equal("Mary", FirstPrediction(reference));
        Assert.Equal(FirstPrediction(reference), FirstPrediction(stdout));
    }
}
