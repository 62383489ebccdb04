using Glassbox.Sae;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

public class SaeSplicingTests
{
    const string Hook = "blocks.1.hook_resid_pre";

    /// <summary>W_enc = [I, −I], W_dec = [I; −I], zero biases, ReLU: x̂ = ReLU(x) − ReLU(−x) = x exactly.</summary>
    static SparseAutoencoder Exact(int d, ScalarType dtype)
    {
        using var identity = eye(d, dtype: dtype);
        using var enc = cat([identity, -identity], 1);
        using var dec = cat([identity, -identity], 0);
        using var b = zeros(2 * d, dtype: dtype);
        using var bd = zeros(d, dtype: dtype);
        return SparseAutoencoder.Create(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = d, DSae = 2 * d, HookName = Hook },
            new Dictionary<string, Tensor> { ["W_enc"] = enc, ["b_enc"] = b, ["W_dec"] = dec, ["b_dec"] = bd });
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AnExactlyInvertibleSaeLeavesLogProbabilitiesUnchanged(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var sae = Exact(model.Config.DModel, ScalarType.Float64);
        using var tokens = TinyModels.Tokens(2, 7);
        using var clean = model.Forward(tokens).log_softmax(-1);
        using var spliced = SaeSplicing.Run(model, tokens, new SaeSplice(sae)).log_softmax(-1);
        Assert.True(clean.allclose(spliced, rtol: 0, atol: 1e-12));
        using var ablated = SaeSplicing.Run(model, tokens, new SaeSplice(sae, Edits: [new LatentEdit(0, 0), new LatentEdit(model.Config.DModel, 0)])).log_softmax(-1);
        Assert.False(clean.allclose(ablated, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData(SaeArchitecture.TopK)]
    [InlineData(SaeArchitecture.Gated)]
    public void WithTheErrorTermAnySaeLeavesLogProbabilitiesUnchanged(SaeArchitecture architecture)
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var sae = SparseAutoencoder.Initialise(new SaeConfig { Architecture = architecture, DIn = model.Config.DModel, DSae = 40, K = 3, HookName = Hook }, seed: 1, dtype: ScalarType.Float64);
        using var tokens = TinyModels.Tokens(2, 7);
        using var clean = model.Forward(tokens).log_softmax(-1);
        using var withError = SaeSplicing.Run(model, tokens, new SaeSplice(sae, AddError: true)).log_softmax(-1);
        using var without = SaeSplicing.Run(model, tokens, new SaeSplice(sae)).log_softmax(-1);
        Assert.True(clean.allclose(withError, rtol: 0, atol: 1e-12));
        Assert.False(clean.allclose(without, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void LatentsAreCachedUnderHookNamesAndClampingAppliesDuringGeneration()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var sae = Exact(model.Config.DModel, ScalarType.Float64);
        using var tokens = TinyModels.Tokens(1, 6);
        var (logits, cache) = SaeSplicing.RunWithCache(model, tokens, new SaeSplice(sae, Edits: [new LatentEdit(3, 2.5)]));
        using (logits)
        using (cache)
        {
            var acts = cache[Hook + ".hook_sae_acts_post"];
            Assert.Equal(new long[] { 1, 6, 2 * model.Config.DModel }, acts.shape);
            Assert.True((acts[.., .., 3] == 2.5).all().item<bool>());
            var x = cache[Hook + ".hook_sae_input"];
            var expected = x.clone();
            expected[.., .., 3] = 2.5 - nn.functional.relu(-x[.., .., 3]);
            Assert.True(cache[Hook + ".hook_sae_output"].allclose(expected, rtol: 0, atol: 1e-12));
        }
        var options = new Glassbox.Models.GenerationOptions { MaxNewTokens = 8, Seed = 1, StopToken = null };
        var plain = Glassbox.Models.Generation.Generate(model, [1, 2], options);
        Assert.Equal(plain, SaeSplicing.Generate(model, [1, 2], options, new SaeSplice(sae)));
        Assert.NotEqual(plain, SaeSplicing.Generate(model, [1, 2], options, new SaeSplice(sae, Edits: [new LatentEdit(3, 50)])));
    }

    [Fact]
    public void AnSaeOfTheWrongWidthOrAtAnUnknownHookIsAnError()
    {
        using var model = TinyModels.Create("gpt2");
        using var tokens = TinyModels.Tokens(1, 4);
        using var narrow = SparseAutoencoder.Initialise(new SaeConfig { DIn = 3, DSae = 8, K = 2, HookName = Hook }, seed: 1);
        Assert.Contains("d_in 3", Assert.Throws<GlassboxException>(() => SaeSplicing.Run(model, tokens, new SaeSplice(narrow))).Message);
        using var lost = SparseAutoencoder.Initialise(new SaeConfig { DIn = model.Config.DModel, DSae = 8, K = 2, HookName = "blocks.1.hook_resid_prex" }, seed: 1);
        Assert.Contains("blocks.1.hook_resid_pre", Assert.Throws<GlassboxException>(() => SaeSplicing.Run(model, tokens, new SaeSplice(lost))).Message);
    }
}
