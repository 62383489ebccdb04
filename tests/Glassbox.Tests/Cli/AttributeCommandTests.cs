using System.Text.Json;

namespace Glassbox.Tests.Cli;

public class AttributeCommandTests
{
    static readonly string Model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");
    const string Prompt = "When Mary and John went to the store , John gave a drink to";

    [Fact]
    public void ListNamesEveryMethodWithoutAModel()
    {
        var (exit, stdout, stderr) = CliHarness.Run("attribute", "--method", "list");
        Assert.True(exit == 0, stderr);
        foreach (var name in Glassbox.Attribution.AttributionMethods.Names) Assert.Contains(name, stdout);
    }

    [Fact]
    public void StepWiseContrastiveAltiLogitExportsJsonWhoseRowsSumToTheAttentionPart()
    {
        var (exit, stdout, stderr) = CliHarness.Run("attribute", "--model", Model, "--method", "alti", "--prompt", Prompt,
            "--target", "Mary .", "--contrast", "John", "--format", "json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("alti", root.GetProperty("method").GetString());
        Assert.Equal(2, root.GetProperty("targets").GetArrayLength());
        var rows = root.GetProperty("scores").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        int promptLength = rows[0].Length - 1;
        // Row 0 scores the prompt only; row 1 also the first target token; each ALTI row sums to 1.
        Assert.Equal(0.0, rows[0][promptLength]);
        foreach (var row in rows) Assert.Equal(1.0, row.Sum(), 6);
    }

    [Theory]
    [InlineData("--method", "alit", "Unknown attribution method 'alit'; did you mean 'alti'")]
    [InlineData("--prompt", " ", "The prompt is empty")]
    [InlineData("--target", "Zanzibar", "--target 'Zanzibar' is not in the vocabulary")]
    [InlineData("--contrast", "Mary John", "--contrast 'Mary John' is 2 tokens, not one")]
    public void BadInputIsAClearError(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--model"] = Model, ["--method"] = "saliency", ["--prompt"] = Prompt };
        args[option] = value;
        var (exit, _, stderr) = CliHarness.Run(["attribute", .. args.SelectMany(a => new[] { a.Key, a.Value })]);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr);
        if (option == "--method") Assert.Contains("integrated_gradients", stderr);
    }

    [Fact]
    public void APromptLongerThanTheContextIsAClearError()
    {
        var (exit, _, stderr) = CliHarness.Run("attribute", "--model", Model, "--method", "saliency", "--prompt", string.Join(" ", Enumerable.Repeat("Mary", 70)));
        Assert.Equal(2, exit);
        Assert.Contains("context is 64 tokens", stderr);
    }

    [Fact]
    public void FlowPrintsTheRoutesAndWritesDot()
    {
        using var dir = new TempDirectory();
        var dot = Path.Combine(dir.Path, "routes.dot");
        var (exit, stdout, stderr) = CliHarness.Run("flow", "--model", Model, "--prompt", Prompt, "--dot", dot);
        Assert.True(exit == 0, stderr);
        Assert.Contains("information flow routes from position 14", stdout);
        Assert.Contains("heads on the routes:", stdout);
        Assert.StartsWith("digraph", File.ReadAllText(dot));
    }
}
