using Glassbox.Sae;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

/// <summary>
/// Techniques §7.2 (Rajamanoharan et al. 2024b): a Gated SAE is a JumpReLU SAE with <c>W_enc = W_gate ⊙ exp(r_mag)</c>,
/// <c>b_enc = b_mag</c> and <c>θ = b_mag − exp(r_mag) ⊙ b_gate</c> (when θ ≥ 0): the gate fires exactly when the magnitude
/// pre-activation passes θ.
/// </summary>
public class GatedJumpReluEquivalenceTests
{
    [Fact]
    public void AGatedSaeEqualsItsJumpReluTranslation()
    {
        using var scope = NewDisposeScope();
        const int dIn = 12, dSae = 40;
        var g = new Generator(17);
        Tensor Normal(params long[] shape) => randn(shape, dtype: ScalarType.Float64, generator: g);
        var wGate = Normal(dIn, dSae);
        var rMag = 0.3 * Normal(dSae);
        var bGate = 0.5 * Normal(dSae);
        var bMag = rMag.exp() * bGate + rand(dSae, dtype: ScalarType.Float64, generator: g) + 0.05; // θ ≥ 0.05
        var wDec = Normal(dSae, dIn);
        var bDec = 0.1 * Normal(dIn);
        var gated = SparseAutoencoder.Create(new SaeConfig { Architecture = SaeArchitecture.Gated, DIn = dIn, DSae = dSae, HookName = "x" },
            new Dictionary<string, Tensor> { ["W_enc"] = wGate, ["b_gate"] = bGate, ["b_mag"] = bMag, ["r_mag"] = rMag, ["W_dec"] = wDec, ["b_dec"] = bDec });
        var jump = SparseAutoencoder.Create(new SaeConfig { Architecture = SaeArchitecture.JumpRelu, DIn = dIn, DSae = dSae, HookName = "x" },
            new Dictionary<string, Tensor>
            {
                ["W_enc"] = wGate * rMag.exp(), ["b_enc"] = bMag, ["threshold"] = bMag - rMag.exp() * bGate, ["W_dec"] = wDec, ["b_dec"] = bDec,
            });
        var x = 2 * Normal(500, dIn);
        var fGated = gated.Encode(x);
        var fJump = jump.Encode(x);
        Assert.True((fGated > 0).sum().item<long>() > 500, "the gate must fire often enough for the check to mean something");
        Assert.True((fGated > 0).logical_xor(fJump > 0).sum().item<long>() == 0, "the two fire on different latents");
        Assert.True((fGated - fJump).abs().max().item<double>() < 1e-12);
        Assert.True((gated.Reconstruct(x) - jump.Reconstruct(x)).abs().max().item<double>() < 1e-10);
        gated.Dispose();
        jump.Dispose();
    }
}
