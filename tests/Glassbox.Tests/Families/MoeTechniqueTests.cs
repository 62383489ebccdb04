using Glassbox.Tests.Cli;

namespace Glassbox.Tests.Families;

/// <summary>Techniques that read MLP neurons on mixture-of-experts models: they skip what MoE layers lack, or refuse saying why.</summary>
public class MoeTechniqueTests
{
    [SharedTheory]
    [InlineData("mixtral")]
    [InlineData("qwen3_moe")]
    public void MechanismsRunAndEntropyNeuronsRefuseByName(string family)
    {
        using var dir = new TempDirectory();
        string tokenizer = HfReferences.ZooTokenizer(dir.Path);
        var (exit, _, stderr) = CliHarness.Run("mechanisms", "--model", HfReferences.Dir(family), "--tokenizer", tokenizer, "--out", dir.Combine("mech"));
        Assert.True(exit == 0, stderr);
        Assert.NotEmpty(Directory.GetFiles(dir.Combine("mech")));
        (exit, _, stderr) = CliHarness.Run("neurons", "--model", HfReferences.Dir(family), "--tokenizer", tokenizer, "--find", "entropy");
        Assert.Equal(2, exit);
        Assert.Contains("mixture of experts", stderr);
    }
}
