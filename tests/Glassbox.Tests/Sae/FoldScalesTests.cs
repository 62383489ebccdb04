using Glassbox.Sae;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

/// <summary>
/// Techniques §7.3: folding the activation-normalisation scales into the weights leaves what the SAE computes unchanged —
/// the folded SAE on raw activations x encodes as the original on κ_in·x and reconstructs its output divided by κ_out.
/// </summary>
public class FoldScalesTests
{
    [Theory]
    [InlineData(SaeArchitecture.Standard, true)]
    [InlineData(SaeArchitecture.TopK, true)]
    [InlineData(SaeArchitecture.BatchTopK, true)]
    [InlineData(SaeArchitecture.JumpRelu, true)]
    [InlineData(SaeArchitecture.Gated, true)]
    [InlineData(SaeArchitecture.TopK, false)] // a transcoder: input and output scales differ
    public void TheFoldedSaeOnRawActivationsIsTheOriginalOnScaledOnes(SaeArchitecture architecture, bool applyBDec)
    {
        using var scope = NewDisposeScope();
        var config = new SaeConfig { Architecture = architecture, DIn = 10, DSae = 24, K = 4, HookName = "x", ApplyBDecToInput = applyBDec,
            TargetHookName = applyBDec ? null : "y" };
        using var original = SparseAutoencoder.Initialise(config, seed: 3, dtype: ScalarType.Float64);
        using var folded = SparseAutoencoder.Initialise(config, seed: 3, dtype: ScalarType.Float64);
        var g = new Generator(5);
        using (no_grad())
            foreach (var name in original.TensorNames.Where(n => n.StartsWith("b_") || n == "threshold" || n == "r_mag"))
            {
                var value = 0.2 * randn(original[name].shape, dtype: ScalarType.Float64, generator: g) + (name == "threshold" ? 0.3 : 0);
                original[name].copy_(value);
                folded[name].copy_(value);
            }
        double inputScale = 3.5, outputScale = applyBDec ? 3.5 : 0.4;
        folded.FoldScales(inputScale, outputScale);
        var x = randn(64, 10, dtype: ScalarType.Float64, generator: g);
        Assert.True((folded.Encode(x) - original.Encode(inputScale * x)).abs().max().item<double>() < 1e-12);
        Assert.True((folded.Reconstruct(x) - original.Reconstruct(inputScale * x) / outputScale).abs().max().item<double>() < 1e-12);
        Assert.True((original.Encode(inputScale * x) > 0).sum().item<long>() > 0, "some latent must fire");
    }
}
