namespace Glassbox.Tests.Cli;

/// <summary>
/// Bad command lines found by sweeping every command with out-of-range numbers, unknown words and overlong prompts:
/// each must end in exit code 2 and a message naming the problem, never a stack trace or a silently wrong answer.
/// </summary>
public class CliInputErrorTests
{
    static readonly string Model = Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");
    const string Prompt = "When Mary and John went to the store , John gave a drink to";

    public static TheoryData<string[], string> BadCommandLines => new()
    {
        { ["train", "--recipe", "attn-only-2l", "--steps", "0", "--out", "unused"], "steps must be at least 1, got 0." },
        { ["serve", "--model", Model, "--port", "99999"], "--port must be between 0 and 65535, got 99999." },
        { ["lens", "--model", Model, "--prompt", Prompt, "--top", "0"], "--top must be at least 1, got 0." },
        { ["weights", "--model", Model, "--layer", "0", "--head", "0", "--top", "-1"], "--top must be at least 1, got -1." },
        { ["flow", "--model", Model, "--prompt", Prompt, "--threshold", "NaN"], "The threshold τ must be a finite number ≥ 0, got NaN." },
        { ["circuit", "--model", Model, "--method", "acdc", "--tau", "NaN", "--count", "2"], "ACDC's threshold τ must be a finite number, got NaN." },
        { ["probe", "--model", Model, "--data", "unused.tsv", "--test-fraction", "1.5"], "--test-fraction must lie strictly between 0 and 1" },
        { ["sae", "train", "--model", Model, "--hook", "blocks.1.hook_resid_post", "--d-sae", "0", "--sequences", "2", "--out", "unused"], "An SAE needs positive d_in and d_sae" },
        // A word-level vocabulary maps an unknown word to <unk>; reading that logit would be a wrong answer.
        { ["lens", "--model", Model, "--prompt", Prompt, "--target", "Zanzibar"], "--target 'Zanzibar' is not in the vocabulary" },
        { ["patchscope", "--model", Model, "--source", Prompt, "--sweep", "Zanzibar"], "--sweep 'Zanzibar' is not in the vocabulary" },
        { ["dla", "--model", Model, "--prompt", Prompt, "--answer", "Zanzibar"], "The answer 'Zanzibar' is not in the vocabulary" },
        { ["dla", "--model", Model, "--prompt", Prompt, "--answer", " Mary", "--wrong", " Mary"], "are the same token" },
        // User pairs used to be ignored in favour of the default IOI task.
        { ["patch", "--model", Model, "--task", "ioi", "--clean", Prompt, "--corrupted", Prompt, "--answer", " Mary"], "do not combine with --task ioi" },
        { ["steer", "--model", Model, "--prompt", "When", "--plus", "Mary", "--minus", "John", "--layer", "1", "--coefficients", "nan"], "finite numbers" },
        { ["steer", "--model", Model, "--prompt", "When", "--plus", "Mary", "--minus", "John", "--layer", "1", "--coefficients", "1e300"], "NaN or +∞" },
        // 2³² used to wrap to neuron 0.
        { ["neurons", "--model", Model, "--layer", "0", "--neurons", "4294967296"], "--neurons: 4294967296 is outside [0, 384)." },
        { ["neurons", "--model", Model, "--layer", "0", "--neurons", "3,x"], "--neurons takes comma-separated integers, got '3,x'." },
        { ["generate", "--model", Model, "--prompt", string.Join(" ", Enumerable.Repeat(Prompt + " Mary .", 5)), "--max-new-tokens", "2"],
            "The prompt has 81 tokens but the model's context is 64 tokens." },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public void BadInputIsOneClearError(string[] args, string expected)
    {
        var (exit, stdout, stderr) = CliHarness.Run(args);
        Assert.True(exit == 2, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("internal error", stderr);
    }

    [Fact]
    public void AnUnexpectedFailureIsOneLineAndExitCode3()
    {
        var failing = new System.CommandLine.Command("fail");
        Func<System.CommandLine.ParseResult, int> boom = _ => throw new InvalidOperationException("boom\n   at somewhere");
        failing.SetAction(boom);
        var stderr = new StringWriter();
        int exit = Glassbox.Cli.CliRunner.Invoke(new System.CommandLine.RootCommand { failing }, ["fail"], new StringWriter(), stderr);
        Assert.Equal(Glassbox.Cli.CliRunner.InternalError, exit);
        Assert.StartsWith("internal error: InvalidOperationException: boom\n", stderr.ToString().Replace("\r", ""));
        Assert.DoesNotContain("somewhere", stderr.ToString());
    }

    [Fact]
    public void CleanAndCorruptedPromptsWithoutATaskArePairs()
    {
        string[] pairs = ["--clean", Prompt, "--corrupted", "When Mary and John went to the store , Mary gave a drink to", "--answer", " Mary", "--wrong", " John"];
        var (exit, implied, stderr) = CliHarness.Run(["patch", "--model", Model, "--site", "resid", "--format", "json", .. pairs]);
        Assert.True(exit == 0, stderr);
        var (_, named, _) = CliHarness.Run(["patch", "--model", Model, "--site", "resid", "--format", "json", "--task", "pairs", .. pairs]);
        Assert.Equal(named, implied);
        var (_, ioi, _) = CliHarness.Run("patch", "--model", Model, "--site", "resid", "--format", "json", "--count", "4");
        Assert.NotEqual(ioi, implied);
    }

    [Fact]
    public void SaeTrainingDefaultsToTheContextWhenItIsShorterThan128()
    {
        using var dir = new TempDirectory();
        var (exit, _, stderr) = CliHarness.Run("sae", "train", "--model", Model, "--hook", "blocks.1.hook_resid_post", "--d-sae", "16", "--k", "4",
            "--steps", "2", "--sequences", "4", "--batch-tokens", "64", "--eval-sequences", "0", "--out", dir.Path);
        Assert.True(exit == 0, stderr);
        Assert.Contains("4 sequences × 64 tokens", stderr);
    }
}
