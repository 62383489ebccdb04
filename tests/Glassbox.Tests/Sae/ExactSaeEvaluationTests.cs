using Glassbox.Sae;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

/// <summary>Techniques §7.4's invariant: an exact SAE evaluates to FVU 0, CE loss recovered 1, KL 0, and L0 = the non-zero coordinates.</summary>
public class ExactSaeEvaluationTests
{
    [Fact]
    public void AnSaeThatReconstructsExactlyScoresPerfectly()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        int d = model.Config.DModel;
        // f = ReLU([x, −x]) and x̂ = f [I; −I] = ReLU(x) − ReLU(−x) = x: one latent per non-zero coordinate.
        var identity = eye(d, dtype: ScalarType.Float64);
        var weights = new Dictionary<string, Tensor>
        {
            ["W_enc"] = cat([identity, -identity], 1),
            ["b_enc"] = zeros(2 * d, dtype: ScalarType.Float64),
            ["W_dec"] = cat([identity, -identity], 0),
            ["b_dec"] = zeros(d, dtype: ScalarType.Float64),
        };
        var config = new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = d, DSae = 2 * d, HookName = "blocks.1.hook_resid_post" };
        using var sae = SparseAutoencoder.Create(config, weights);
        var sequences = Enumerable.Range(0, 4).Select(s => TinyModels.Tokens(1, 10, seed: 20 + s)[0].data<long>().ToArray()).ToArray();
        var evaluation = SaeEvaluation.Run(model, sae, sequences);
        Assert.True(evaluation.Fvu < 1e-20, $"FVU {evaluation.Fvu}");
        Assert.Equal(1.0, evaluation.CeLossRecovered, 9);
        Assert.Equal(0.0, evaluation.Kl, 9);
        Assert.Equal(evaluation.CeClean, evaluation.CeSae, 9);
        Assert.Equal(d, evaluation.L0, 9); // the residual stream has no exactly-zero coordinate
    }
}
