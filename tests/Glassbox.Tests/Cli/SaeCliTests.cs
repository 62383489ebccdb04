using System.Text.Json;

namespace Glassbox.Tests.Cli;

/// <summary>The <c>sae train|eval|features</c> and <c>neurons</c> commands end to end on a zoo model, with tiny settings.</summary>
public class SaeCliTests
{
    static readonly string Model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");
    static readonly string[] Corpus = ["--sequences", "8", "--seq-len", "24"];

    [Fact]
    public void TrainEvaluateAndShowFeaturesOfAnSae()
    {
        using var dir = new TempDirectory();
        var (exit, stdout, stderr) = CliHarness.Run(["sae", "train", "--model", Model, "--hook", "blocks.1.hook_resid_post", "--arch", "topk", "--k", "4", "--d-sae", "48",
            "--steps", "30", "--batch-tokens", "64", "--lr", "3e-3", "--eval-sequences", "4", "--out", dir.File("sae"), .. Corpus]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("CE loss recovered", stdout);
        Assert.True(File.Exists(dir.Combine("sae", "cfg.json")) && File.Exists(dir.Combine("sae", "sae_weights.safetensors")));

        (exit, stdout, stderr) = CliHarness.Run(["sae", "eval", "--model", Model, "--sae", dir.File("sae"), "--format", "json", .. Corpus]);
        Assert.True(exit == 0, stderr);
        using (var eval = JsonDocument.Parse(stdout))
        {
            Assert.Equal(4, eval.RootElement.GetProperty("l0").GetDouble(), 6);
            double fvu = eval.RootElement.GetProperty("fvu").GetDouble();
            Assert.True(fvu is > 0 and < 1, $"FVU {fvu}");
        }

        (exit, stdout, stderr) = CliHarness.Run(["sae", "features", "--model", Model, "--sae", dir.File("sae"), "--store", dir.File("sae.db"), "--latents", "0,7",
            "--examples", "3", "--format", "json", .. Corpus]);
        Assert.True(exit == 0, stderr);
        using var features = JsonDocument.Parse(stdout);
        var units = features.RootElement.GetProperty("units");
        Assert.Equal(2, units.GetArrayLength());
        Assert.Equal(10, units[0].GetProperty("output").GetProperty("top").GetArrayLength());
    }

    /// <summary>A strong L1 kills latents; --resample-every restarts them and the summary counts them.</summary>
    [Fact]
    public void TrainResamplesDeadLatents()
    {
        using var dir = new TempDirectory();
        var (exit, stdout, stderr) = CliHarness.Run(["sae", "train", "--model", Model, "--hook", "blocks.1.hook_resid_post", "--arch", "standard", "--sparsity", "50",
            "--d-sae", "48", "--steps", "30", "--batch-tokens", "64", "--lr", "3e-2", "--resample-every", "10", "--eval-sequences", "0", "--out", dir.File("sae"), .. Corpus]);
        Assert.True(exit == 0, stderr);
        var count = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) latents resampled");
        Assert.True(count.Success && int.Parse(count.Groups[1].Value) > 0, stdout);

        (exit, _, stderr) = CliHarness.Run(["sae", "train", "--model", Model, "--hook", "blocks.1.hook_resid_post", "--d-sae", "48", "--steps", "2",
            "--resample-every", "-1", "--out", dir.File("bad"), .. Corpus]);
        Assert.Equal(2, exit);
        Assert.Contains("resampling interval", stderr);
    }

    [Fact]
    public void NeuronsShowProjectionsAndTopContexts()
    {
        using var dir = new TempDirectory();
        var (exit, stdout, stderr) = CliHarness.Run(["neurons", "--model", Model, "--layer", "0", "--neurons", "5", "--store", dir.File("n.db"), "--examples", "2", .. Corpus]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("blocks.0.mlp.hook_post unit 5", stdout);
        Assert.Contains("reads", stdout);
        Assert.Contains("promotes", stdout);
        Assert.Contains("[[", stdout);

        (exit, _, stderr) = CliHarness.Run("neurons", "--model", Model, "--layer", "9");
        Assert.Equal(2, exit);
        Assert.Contains("Layer 9", stderr);
        (exit, _, stderr) = CliHarness.Run("neurons", "--model", Model);
        Assert.Equal(2, exit);
        Assert.Contains("--layer", stderr);
    }

    /// <summary>The weight-based detectors rank the last layer's neurons; the scores are shares and cosines.</summary>
    [Fact]
    public void NeuronsFindRanksTheLastLayerByEntropyAndFrequencyScores()
    {
        var (exit, stdout, stderr) = CliHarness.Run("neurons", "--model", Model, "--find", "entropy", "--format", "csv");
        Assert.True(exit == 0, stderr);
        var rows = stdout.Trim().Split('\n').Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(20, rows.Length);
        Assert.All(rows, r => Assert.Equal("3", r[0]));
        Assert.All(rows, r => Assert.InRange(double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture), 0, 1));

        (exit, stdout, stderr) = CliHarness.Run(["neurons", "--model", Model, "--find", "frequency", "--layer", "2", "--format", "json", .. Corpus]);
        Assert.True(exit == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var top = json.RootElement.GetProperty("top").EnumerateArray().ToArray();
        Assert.All(top, n => Assert.Equal(2, n.GetProperty("layer").GetInt32()));
        Assert.All(top, n => Assert.InRange(Math.Abs(n.GetProperty("score").GetDouble()), 0, 1));

        (exit, _, stderr) = CliHarness.Run("neurons", "--model", Model, "--find", "loud");
        Assert.Equal(2, exit);
        Assert.Contains("entropy or frequency", stderr);
    }
}
