using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tests.Models;
using Glassbox.Tests.Reference;
using static TorchSharp.torch;

namespace Glassbox.Tests.Loading;

public class ModelSaverTests
{
    /// <summary>A tiny model with only the biases its Hugging Face family can store (GPT-2 has no unembedding bias; Llama only q/k/v biases).</summary>
    static HookedTransformer Representable(string arch)
    {
        var cfg = TinyModels.Config(arch);
        using var sd = TinyModels.Weights(cfg);
        sd.Remove("unembed.b_U");
        if (arch == "llama")
            foreach (var name in sd.Names.Where(n => n.Contains("mlp.b_") || n.EndsWith("attn.b_O")).ToList()) sd.Remove(name);
        return new HookedTransformer(cfg, sd);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("attn-only")]
    [InlineData("llama")]
    public void SavedModelLoadsBackWithIdenticalLogits(string arch)
    {
        using var model = Representable(arch);
        using var dir = new TempDirectory();
        ModelSaver.Save(model, dir.Path);
        using var loaded = ModelLoader.Load(dir.Path);
        Assert.Equal(model.Config.AttnOnly, loaded.Config.AttnOnly);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 12);
        Assert.True(model.Forward(tokens).equal(loaded.Forward(tokens)).all().item<bool>());
    }

    [Fact]
    public void SavedGpt2MatchesTheIndependentReference()
    {
        using var model = Representable("gpt2");
        using var dir = new TempDirectory();
        ModelSaver.Save(model, dir.Path);
        var tokens = TinyCheckpoints.RandomTokens(seed: 2, count: 16, vocab: 50);
        var expected = ReferenceForward.LogProbsFromDirectory(dir.Path, tokens);
        using var scope = NewDisposeScope();
        var actual = model.Forward(tensor(tokens.Select(t => (long)t).ToArray())).log_softmax(-1)[0].to(ScalarType.Float64).data<double>().ToArray();
        for (int p = 0; p < 16; p++)
            for (int v = 0; v < 50; v++)
                Assert.True(Math.Abs(expected[p, v] - actual[p * 50 + v]) < 1e-4, $"position {p}, token {v}");
    }
}
