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
}
