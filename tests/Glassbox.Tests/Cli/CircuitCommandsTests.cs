using System.Text.Json;

namespace Glassbox.Tests.Cli;

public class CircuitCommandsTests
{
    static readonly string Model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");

    [Fact]
    public void DlaPrintsPartsThatAddUpToTheLogitDifference()
    {
        var (exit, stdout, stderr) = CliHarness.Run("dla", "--model", Model, "--count", "40", "--format", "json");
        Assert.True(exit == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(json.GetProperty("actual").GetDouble(), json.GetProperty("total").GetDouble(), 1e-4);
        var heads = json.GetProperty("heads").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        Assert.Equal(heads.Max(), json.GetProperty("heads")[2][0].GetDouble()); // L2H0, the card's main direct writer
    }

    [Fact]
    public void DlaOfOnePromptDecomposesItsLogit()
    {
        var (exit, stdout, stderr) = CliHarness.Run("dla", "--model", Model, "--prompt", "When Mary and John went to the store , John gave a drink to",
            "--answer", " Mary", "--wrong", " John");
        Assert.True(exit == 0, stderr);
        Assert.Contains("logit difference: actual", stdout);
    }

    [Fact]
    public void PatchWithAtPPrintsAHeadGrid()
    {
        var (exit, stdout, stderr) = CliHarness.Run("patch", "--model", Model, "--count", "20", "--site", "heads", "--method", "atp");
        Assert.True(exit == 0, stderr);
        Assert.Contains("AtP Denoising Heads", stdout);
        Assert.Contains("L3", stdout);
    }

    [Fact]
    public void KnockoutOfAUserPromptNeedsNoCorruptionAndPrintsALayerBySourceGrid()
    {
        var (exit, stdout, stderr) = CliHarness.Run("knockout", "--model", Model, "--task", "pairs", "--clean", "When Mary and John went to the store , John gave a drink to",
            "--answer", " Mary", "--wrong", " John", "--sources", "1", "--sources", "3,11", "--format", "csv");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 4 * 2, lines.Length); // header + 4 layers × 2 source sets
        Assert.Contains(lines, l => l.StartsWith("L2,\"3,11\","));
    }

    [Fact]
    public void PatchingEachHeadsWholeInputMatchesPatchingItsOutput()
    {
        double[][] Grid(string site)
        {
            var (exit, stdout, stderr) = CliHarness.Run("patch", "--model", Model, "--count", "10", "--site", site, "--format", "json");
            Assert.True(exit == 0, stderr);
            return JsonDocument.Parse(stdout).RootElement.GetProperty("values").EnumerateArray()
                .Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        }
        var input = Grid("attn-in");
        var output = Grid("heads");
        Assert.Equal(4, input.Length);
        for (int l = 0; l < 4; l++) for (int h = 0; h < 4; h++) Assert.Equal(output[l][h], input[l][h], 1e-4);
    }

    /// <summary>The prediction's own position is never corrupted, so restoring its attention output in every layer restores it.</summary>
    [Fact]
    public void TraceRestoringAttentionOutputsOverAllLayersAtTheEndGivesTheCleanMetric()
    {
        var (exit, stdout, stderr) = CliHarness.Run("patch", "--model", Model, "--count", "10", "--method", "trace", "--state", "attn_out", "--window", "8",
            "--samples", "2", "--metric", "prob", "--format", "json");
        Assert.True(exit == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Contains("attn_out over 8-layer windows", json.GetProperty("title").GetString());
        double clean = json.GetProperty("clean").GetDouble(), corrupted = json.GetProperty("corrupted").GetDouble();
        Assert.True(clean - corrupted > 0.3, $"noise on the names must hurt the prediction: clean {clean}, noised {corrupted}");
        foreach (var row in json.GetProperty("values").EnumerateArray())
        {
            Assert.Equal(clean, row[row.GetArrayLength() - 1].GetDouble(), 1e-4);
            Assert.Equal(corrupted, row[0].GetDouble(), 1e-6);
        }
    }

    [Fact]
    public void CircuitWritesDotAndAFaithfulnessLine()
    {
        using var dir = new TempDirectory();
        string dot = Path.Combine(dir.Path, "c.dot");
        var (exit, stdout, stderr) = CliHarness.Run("circuit", "--model", Model, "--count", "20", "--method", "eap", "--keep", "0.2", "--dot", dot);
        Assert.True(exit == 0, stderr);
        Assert.Contains("faithfulness", stdout);
        Assert.Contains("digraph circuit", File.ReadAllText(dot));
        Assert.Contains("\"L2H0\"", File.ReadAllText(dot));
    }

    [Theory]
    [InlineData("circuit", "--method", "magic")]
    [InlineData("patch", "--site", "elsewhere")]
    [InlineData("dla", "--task", "nope")]
    [InlineData("knockout", "--window", "9")]
    [InlineData("knockout", "--sources", "1,x")]
    [InlineData("patch", "--method", "trace", "--state", "hidden")]
    [InlineData("patch", "--method", "trace", "--window", "0")]
    [InlineData("patch", "--state", "attn_out")]
    [InlineData("patch", "--task", "pairs", "--clean", "When Mary and John went", "--corrupted", "When Mary went", "--answer", " Mary")]
    public void BadInputIsAClearError(params string[] args)
    {
        var (exit, _, stderr) = CliHarness.Run([.. args, "--model", Model]);
        Assert.Equal(2, exit);
        Assert.Contains(stderr.Split('\n'), line => line.StartsWith("error: "));
    }
}
