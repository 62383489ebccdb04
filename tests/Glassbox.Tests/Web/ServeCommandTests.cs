using Glassbox.Sae;
using Glassbox.Tests.Cli;

namespace Glassbox.Tests.Web;

public class ServeCommandTests
{
    static string Model => Path.Combine(SharedModels.RepoRoot, "models", "ioi-gpt2-4l");

    [Fact]
    public void AHostThatIsNotAnAddressIsAClearError()
    {
        var (exit, _, stderr) = CliHarness.Run("serve", "--model", Model, "--host", "example.com", "--port", "0");
        Assert.Equal(2, exit);
        Assert.Contains("--host takes an IP address", stderr);
    }

    [Fact]
    public void ARootThatIsNotADirectoryIsAClearError()
    {
        var (exit, _, stderr) = CliHarness.Run("serve", "--model", Model, "--root", Path.Combine(Model, "config.json"), "--port", "0");
        Assert.Equal(2, exit);
        Assert.Contains("is not a directory", stderr);
    }

    [Fact]
    public void AnSaeOnAHookTheModelLacksIsAClearError()
    {
        using var dir = new TempDirectory();
        using (var sae = ViewerServer.RandomSae(128, "blocks.9.hook_resid_post")) SaeFiles.Save(sae, dir.Path);
        var (exit, _, stderr) = CliHarness.Run("serve", "--model", Model, "--sae", dir.Path, "--port", "0");
        Assert.Equal(2, exit);
        Assert.Contains("reads 'blocks.9.hook_resid_post', which this model does not have", stderr);
    }

    [Fact]
    public void ANonPositiveMechanismsProbeIsAClearError()
    {
        var (exit, _, stderr) = CliHarness.Run("serve", "--model", Model, "--mechanisms-sequences", "0", "--port", "0");
        Assert.Equal(2, exit);
        Assert.Contains("--mechanisms-sequences must be at least 1, got 0.", stderr);
    }
}
