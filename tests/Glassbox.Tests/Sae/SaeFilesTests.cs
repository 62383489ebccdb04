using Glassbox.Loading;
using Glassbox.Sae;
using Glassbox.Tests.Loading;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

public class SaeFilesTests
{
    static SparseAutoencoder Trained(SaeArchitecture architecture)
    {
        var sae = SparseAutoencoder.Initialise(new SaeConfig { Architecture = architecture, DIn = 8, DSae = 24, K = architecture is SaeArchitecture.TopK or SaeArchitecture.BatchTopK ? 4 : new SaeConfig().K, HookName = "blocks.1.hook_resid_pre", ModelName = "tiny" }, seed: 5);
        using var _ = no_grad();
        foreach (var t in sae.Tensors.Values) t.add_(randn(t.shape, generator: new Generator(9)) * 0.01);
        return sae;
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.TopK)]
    [InlineData(SaeArchitecture.BatchTopK)]
    [InlineData(SaeArchitecture.JumpRelu)]
    [InlineData(SaeArchitecture.Gated)]
    public void SaveLoadRoundTripsBitExactly(SaeArchitecture architecture)
    {
        using var dir = new TempDirectory();
        using var sae = Trained(architecture);
        SaeFiles.Save(sae, dir.Combine("a"));
        using var loaded = SaeFiles.Load(dir.Combine("a"));
        Assert.Equal(sae.Config, loaded.Config);
        foreach (var name in sae.TensorNames) TensorAssert.BitEqual(sae[name], loaded[name]);
        SaeFiles.Save(loaded, dir.Combine("b"));
        Assert.Equal(File.ReadAllBytes(dir.Combine("a", SaeFiles.WeightsFile)), File.ReadAllBytes(dir.Combine("b", SaeFiles.WeightsFile)));
        Assert.Equal(File.ReadAllText(dir.Combine("a", SaeFiles.ConfigFile)), File.ReadAllText(dir.Combine("b", SaeFiles.ConfigFile)));
    }

    /// <summary>A JumpReLU file and an older-layout TopK file built by hand from SAELens's documented names and shapes.</summary>
    [Theory]
    [InlineData("jumprelu", """{"architecture": "jumprelu", "d_in": 6, "d_sae": 10, "dtype": "float32", "apply_b_dec_to_input": false, "normalize_activations": "none", "hook_name": "blocks.0.hook_resid_post", "hook_layer": 0}""")]
    [InlineData("topk", """{"d_in": 6, "d_sae": 10, "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 3}, "apply_b_dec_to_input": true, "metadata": {"hook_name": "blocks.0.hook_resid_post", "model_name": "x"}}""")]
    public void SaeLensLayoutLoadsWithIdenticalEncodings(string kind, string cfg)
    {
        using var dir = new TempDirectory();
        var g = new Generator(11);
        using var wEnc = randn([6, 10], generator: g);
        using var bEnc = randn([10], generator: g) * 0.1;
        using var wDec = randn([10, 6], generator: g);
        using var bDec = randn([6], generator: g) * 0.1;
        using var threshold = rand([10], generator: g) * 0.5;
        var tensors = new Dictionary<string, Tensor> { ["W_enc"] = wEnc, ["b_enc"] = bEnc, ["W_dec"] = wDec, ["b_dec"] = bDec };
        if (kind == "jumprelu") tensors["threshold"] = threshold;
        File.WriteAllText(dir.File("cfg.json"), cfg);
        SafeTensorsWriter.Write(dir.File("sae_weights.safetensors"), tensors);

        using var sae = SaeFiles.Load(dir.Path);
        using var x = randn([5, 6], generator: g);
        // The documented forward pass, written out.
        using var pre = (kind == "jumprelu" ? x : x - bDec).matmul(wEnc) + bEnc;
        using var expected = kind == "jumprelu"
            ? pre * (pre > threshold).to(ScalarType.Float32)
            : zeros_like(pre).scatter(1, pre.topk(3, dim: 1).indexes, nn.functional.relu(pre.topk(3, dim: 1).values));
        using var actual = sae.Encode(x);
        TensorAssert.BitEqual(expected, actual);
        Assert.Equal(kind == "jumprelu" ? SaeArchitecture.JumpRelu : SaeArchitecture.TopK, sae.Config.Architecture);
    }

    [Fact]
    public void AFileMissingATensorOrAFieldIsAnErrorNamingIt()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("cfg.json"), """{"architecture": "standard", "d_sae": 4, "hook_name": "h"}""");
        Assert.Contains("'d_in'", Assert.Throws<GlassboxException>(() => SaeFiles.Load(dir.Path)).Message);
        File.WriteAllText(dir.File("cfg.json"), """{"architecture": "jumprelu", "d_in": 2, "d_sae": 4, "hook_name": "h"}""");
        using var w = zeros(2, 4);
        SafeTensorsWriter.Write(dir.File("sae_weights.safetensors"), new Dictionary<string, Tensor> { ["W_enc"] = w });
        Assert.Contains("'b_enc'", Assert.Throws<GlassboxException>(() => SaeFiles.Load(dir.Path)).Message);
    }
}
