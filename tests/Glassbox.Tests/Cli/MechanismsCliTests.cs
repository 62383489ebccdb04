using System.Text.Json;

namespace Glassbox.Tests.Cli;

public class MechanismsCliTests
{
    static string AttnOnly => Path.Combine(SharedModels.RepoRoot, "models", "attn-only-2l");

    [Fact]
    public void MechanismsWritesJsonHtmlAndOnePngPerScore()
    {
        using var dir = new TempDirectory();
        var (exit, stdout, stderr) = CliHarness.Run("mechanisms", "--model", AttnOnly, "--sequences", "2", "--no-ablations", "--format", "json", "--out", dir.Path);
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        int scores = json.RootElement.GetProperty("scores").GetArrayLength();
        Assert.Equal(scores, Directory.GetFiles(dir.Path, "*.png").Length);
        Assert.Equal(2, json.RootElement.GetProperty("sinkMassPerLayer").GetArrayLength());
        string html = File.ReadAllText(Path.Combine(dir.Path, "index.html"));
        Assert.Contains("<img src=\"induction.png\"", html);
        Assert.Contains("\n1,0,induction,", File.ReadAllText(Path.Combine(dir.Path, "findings.csv")));
    }

    [Fact]
    public void AMissingTextProbeFileIsAClearError()
    {
        var (exit, _, stderr) = CliHarness.Run("mechanisms", "--model", AttnOnly, "--text", "/nonexistent/text.txt", "--no-ablations");
        Assert.Equal(2, exit);
        Assert.Contains("text file not found", stderr);
    }

    [Fact]
    public void WeightsShowsOneHeadsCircuitsOrEveryHeadsScores()
    {
        var (exit, stdout, stderr) = CliHarness.Run("weights", "--model", AttnOnly, "--layer", "1", "--head", "2", "--top", "3");
        Assert.True(exit == 0, stderr);
        Assert.Contains("L1H2: copying score", stdout);
        Assert.Contains("full QK, top pairs", stdout);

        (exit, stdout, stderr) = CliHarness.Run("weights", "--model", AttnOnly, "--format", "csv");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("kind,writer,reader,score\n", stdout);
        Assert.Equal(3 * 16 + 1, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // Q, K, V × 4 writers × 4 readers

        (exit, _, stderr) = CliHarness.Run("weights", "--model", AttnOnly, "--layer", "1");
        Assert.Equal(2, exit);
        Assert.Contains("--layer and --head together", stderr);
        (exit, _, stderr) = CliHarness.Run("weights", "--model", AttnOnly, "--layer", "2", "--head", "0");
        Assert.Equal(2, exit);
        Assert.Contains("L2H0 does not exist", stderr);
    }

    /// <summary>ioi-gpt2-4l has an MLP in block 0: the effective embedding changes layer 2's full circuits, not layer 0's.</summary>
    [Fact]
    public void WeightsWithTheEffectiveEmbeddingChangeOnlyHeadsAfterLayerZero()
    {
        string ioi = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");
        double Copying(int layer, params string[] extra)
        {
            var (exit, stdout, stderr) = CliHarness.Run(["weights", "--model", ioi, "--layer", layer.ToString(), "--head", "0", "--format", "json", .. extra]);
            Assert.True(exit == 0, stderr);
            using var json = JsonDocument.Parse(stdout);
            return json.RootElement.GetProperty("copyingScore").GetDouble();
        }
        Assert.Equal(Copying(0), Copying(0, "--effective-embedding"));
        Assert.NotEqual(Copying(2), Copying(2, "--effective-embedding"));
    }
}
