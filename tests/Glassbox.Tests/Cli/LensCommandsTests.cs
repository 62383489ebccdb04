using System.Text.Json;
using Glassbox.Datasets;
using Glassbox.Loading;
using Glassbox.Models;

namespace Glassbox.Tests.Cli;

/// <summary>glassbox lens, probe, steer, ablate and patchscope on the zoo's ioi-gpt2-4l.</summary>
public class LensCommandsTests
{
    static readonly string Model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");
    const string Prompt = "When Mary and John went to the store , John gave a drink to";

    [Fact]
    public void LensJsonEndsInTheModelsOwnPredictionAndWritesPng()
    {
        var (exit, stdout, stderr) = CliHarness.Run("lens", "--model", Model, "--prompt", Prompt, "--target", "Mary", "--format", "json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var output = json.RootElement.GetProperty("cells").EnumerateArray().Last().EnumerateArray().Last();
        Assert.Equal(0.0, output.GetProperty("klToFinal").GetDouble());
        Assert.Equal("Mary", output.GetProperty("top")[0].GetProperty("token").GetString());
        Assert.Equal(1, output.GetProperty("targetRank").GetInt32());

        using var dir = new TempDirectory();
        var png = dir.File("lens.png");
        (exit, _, stderr) = CliHarness.Run("lens", "--model", Model, "--prompt", Prompt, "--format", "png", "--out", png);
        Assert.True(exit == 0, stderr);
        Assert.True(Directory.GetFiles(dir.Path, "*.png").Length >= 1, stderr);
    }

    [Theory]
    [InlineData("--method", "tuned")]
    [InlineData("--target", "Mary John")]
    [InlineData("--method", "future")]
    [InlineData("--optimizer", "adam")]
    public void LensInputErrorsAreOneLine(string option, string value)
    {
        var (exit, _, stderr) = CliHarness.Run("lens", "--model", Model, "--prompt", Prompt, option, value);
        Assert.Equal(2, exit);
        Assert.StartsWith("error: ", stderr.Split('\n').Last(l => l.Length > 0));
    }

    /// <summary>The saved, orthogonalised checkpoint loads back and computes what the ablation hook computes on the original.</summary>
    [Fact]
    public void AblateSavesACheckpointThatEqualsTheAblationHook()
    {
        using var dir = new TempDirectory();
        var (exit, stdout, stderr) = CliHarness.Run("ablate", "--model", Model, "--plus", "Mary", "--plus", "Mary went", "--minus", "John", "--minus", "John went",
            "--layer", "1", "--out", dir.Path);
        Assert.True(exit == 0, stderr);
        Assert.Contains("saved to", stdout);
        using var model = ModelLoader.Load(Model);
        using var ablated = ModelLoader.Load(dir.Path);
        var tokenizer = ModelLoader.FindTokenizer(Model, model.Config)!;
        using var scope = TorchSharp.torch.NewDisposeScope();
        long[] Ids(string text) => tokenizer.Encode(text).Select(i => (long)i).ToArray();
        var prompt = TorchSharp.torch.tensor(Ids(Prompt)).unsqueeze(0);
        using var direction = Glassbox.Probing.MeanDifference.FromSets(model, [Ids("Mary"), Ids("Mary went")], [Ids("John"), Ids("John went")], 1);
        var hooked = model.RunWithHooks(prompt, Glassbox.Probing.DirectionalAblation.Hook(direction.Vector));
        var loaded = ablated.Forward(prompt);
        Assert.True((hooked - loaded).abs().max().item<float>() < 1e-3);
        Assert.True((model.Forward(prompt) - loaded).abs().max().item<float>() > 1e-2, "the ablation must change the model");
    }

    [Fact]
    public void SteerAtCoefficientZeroIsTheUnsteeredGeneration()
    {
        var (exit, stdout, stderr) = CliHarness.Run("steer", "--model", Model, "--prompt", Prompt, "--plus", "John", "--minus", "Mary",
            "--layer", "1", "--coefficients", "0,8", "--target", "Mary", "--max-new-tokens", "5", "--format", "json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var rows = json.RootElement.GetProperty("rows");
        Assert.Equal(2, rows.GetArrayLength());
        using var model = ModelLoader.Load(Model);
        var tokenizer = ModelLoader.FindTokenizer(Model, model.Config)!;
        var prompt = tokenizer.Encode(Prompt).Select(i => (long)i).ToArray();
        var plain = Generation.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 5 })[prompt.Length..];
        Assert.Equal(plain, rows[0].GetProperty("continuation").EnumerateArray().Select(e => e.GetInt64()));
        Assert.NotEqual(rows[0].GetProperty("targetLogProbability").GetDouble(), rows[1].GetProperty("targetLogProbability").GetDouble());
    }

    [Fact]
    public void PatchscopeReadsTheAnswerStateThroughTheIdentityPrompt()
    {
        var (exit, stdout, stderr) = CliHarness.Run("patchscope", "--model", Model, "--source", Prompt, "--source-layer", "3", "--target-layer", "4");
        Assert.True(exit == 0, stderr);
        // Patching the last layer's residual into the final residual reads the source's own logit lens: Mary.
        var first = stdout.Split('\n').First(l => l.StartsWith("1 "));
        Assert.Equal("Mary", first.Split(" ", StringSplitOptions.RemoveEmptyEntries)[1]); // the patched column
        Assert.Contains("generated:", stdout);
    }

    /// <summary>In a sweep of the prompt into itself, the last source layer written as the final residual reads "Mary".</summary>
    [Fact]
    public void PatchscopeSweepGivesEverySourceAndTargetLayer()
    {
        var (exit, stdout, stderr) = CliHarness.Run("patchscope", "--model", Model, "--source", Prompt, "--target", Prompt, "--sweep", "Mary", "--format", "json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var p = json.RootElement.GetProperty("probability");
        Assert.Equal(4, p.GetArrayLength());
        Assert.Equal(5, p[0].GetArrayLength());
        Assert.Equal("Mary", json.RootElement.GetProperty("top")[3][4].GetString());
        Assert.True(p[3][4].GetDouble() > 0.5);

        (exit, _, stderr) = CliHarness.Run("patchscope", "--model", Model, "--source", Prompt);
        Assert.Equal(2, exit);
        Assert.Contains("--source-layer", stderr);
    }

    [Fact]
    public void ProbeReadsATsvAndReportsEveryLayer()
    {
        using var dir = new TempDirectory();
        var data = IoiTsv(dir, 40, 3, p => p.Order);
        var (exit, stdout, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--format", "csv");
        Assert.True(exit == 0, stderr);
        Assert.Contains("labels: 0 = Abba, 1 = Baba", stderr);
        var lines = stdout.Trim().Split('\n');
        Assert.Equal("layer,train_accuracy,test_accuracy,control_accuracy,selectivity", lines[0]);
        Assert.Equal(5, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.InRange(Column(l, 2), 0, 1));

        (exit, stdout, stderr) = CliHarness.Run("probe", "--model", Model, "--data", IoiTsv(dir, 12, 4, p => p.Order), "--optimizer", "lbfgs", "--cv", "--random-baseline", "--format", "csv");
        Assert.True(exit == 0, stderr);
        Assert.Equal(lines[0] + ",lambda,random_model_test_accuracy", stdout.Trim().Split('\n')[0]);
        Assert.All(stdout.Trim().Split('\n').Skip(1), l => Assert.InRange(Column(l, 2), 0, 1));
        (exit, _, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--optimizer", "newton");
        Assert.Equal(2, exit);
        Assert.Contains("use adamw or lbfgs", stderr);
    }

    [Fact]
    public void ProbeKindsAndMdlAreFlagsAndUnknownKindsAreErrors()
    {
        using var dir = new TempDirectory();
        var data = IoiTsv(dir, 60, 3, p => p.Order);
        var (exit, stdout, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--probe", "mlp", "--mdl", "--format", "csv");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Trim().Split('\n');
        Assert.Equal("layer,codelength_bits,compression,control_codelength_bits,control_compression", lines[0]);
        Assert.Equal(5, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.True(Column(l, 1) > 0, l));

        (exit, stdout, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--probe", "mass-mean", "--format", "json");
        Assert.True(exit == 0, stderr);
        Assert.Equal("mass-mean", System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("probe").GetString());

        (exit, _, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--probe", "mpl");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown probe 'mpl'", stderr);
        Assert.Contains("'mlp'", stderr);

        (exit, _, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--probe", "mass-mean", "--mdl");
        Assert.Equal(2, exit);
        Assert.Contains("not calibrated", stderr);
    }

    [Fact]
    public void ProbeWithScrubbingProbesTheHeldOutPartAfterErasure()
    {
        using var dir = new TempDirectory();
        var data = IoiTsv(dir, 240, 11, p => p.IoToken % 2);
        var (exit, stdout, stderr) = CliHarness.Run("probe", "--model", Model, "--data", data, "--hook", "resid_pre", "--scrub", "--format", "csv");
        Assert.True(exit == 0, stderr);
        Assert.Contains("fitted on 168 examples; probing the other 72", stderr);
        var accuracies = stdout.Trim().Split('\n').Skip(1).Select(l => Column(l, 2)).ToArray();
        Assert.Equal(4, accuracies.Length);
        Assert.All(accuracies, a => Assert.True(a <= 0.7, $"test accuracy {a:F2} after scrubbing"));
    }

    /// <summary>A label&lt;TAB&gt;text file of IOI prompts for <c>glassbox probe</c>.</summary>
    static string IoiTsv(TempDirectory dir, int count, int seed, Func<IoiPrompt, object> label)
    {
        using var zoo = new ModelZoo.ZooModel("ioi-gpt2-4l");
        var path = dir.File("labelled.tsv");
        File.WriteAllLines(path, new IoiDataset(zoo.Tokenizer).Generate(count, seed).Select(p => $"{label(p)}\t{p.Text}"));
        return path;
    }

    static double Column(string csvLine, int column) => double.Parse(csvLine.Split(',')[column], System.Globalization.CultureInfo.InvariantCulture);
}
