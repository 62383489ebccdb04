using Glassbox.Sae;
using Glassbox.Tests.Loading;
using Glassbox.Training;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

/// <summary>Resampling (Bricken et al. 2023) restarts only the dead latents and revives them under a strong L1.</summary>
public class DeadLatentResamplingTests
{
    const int DIn = 32, DSae = 128;

    [Fact]
    public void AResampleTouchesOnlyTheDeadLatentsAndResetsTheirAdamState()
    {
        using var scope = NewDisposeScope();
        using var dictionary = SyntheticDictionaryTests.Dictionary(1);
        using var sae = SparseAutoencoder.Initialise(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = DIn, DSae = DSae, HookName = "x" }, seed: 2);
        using var optimizer = new AdamW(sae.Parameters, weightDecay: 0);
        var (x, _) = SyntheticDictionaryTests.Batches(dictionary, 256, 3).First();
        foreach (var p in sae.Parameters) p.requires_grad_(true);
        for (int i = 0; i < 3; i++)
        {
            optimizer.ZeroGrad();
            sae.Loss(x, x, new SaeStepState(1.0, null)).Total.backward();
            optimizer.Step(1e-2);
        }
        foreach (var p in sae.Parameters) p.requires_grad_(false);
        var dead = zeros(DSae, ScalarType.Bool);
        long[] deadIds = [3, 40, 41, 127];
        foreach (var i in deadIds) dead[i] = true;
        var alive = dead.logical_not();
        var before = sae.Parameters.Select(p => p.clone()).ToArray();
        var moments = sae.Parameters.Select(p => optimizer.Moments(p)).Select(mv => (mv.M.clone(), mv.V.clone())).ToArray();
        double liveNorm = sae.W_enc.norm(0).masked_select(alive).mean().item<float>();

        Assert.Equal(4, DeadLatentResampling.Resample(sae, optimizer, dead, x, x, new Generator(7)));

        // Everything of the live latents and b_dec, and their Adam moments, is unchanged.
        TensorAssert.BitEqual(before[0].index_select(1, alive.nonzero().squeeze(1)), sae.W_enc.index_select(1, alive.nonzero().squeeze(1)));
        TensorAssert.BitEqual(before[1].masked_select(alive), sae["b_enc"].masked_select(alive));
        TensorAssert.BitEqual(before[2][alive], sae.W_dec[alive]);
        TensorAssert.BitEqual(before[3], sae.b_dec);
        var (mEnc, vEnc) = optimizer.Moments(sae.W_enc);
        TensorAssert.BitEqual(moments[0].Item1.index_select(1, alive.nonzero().squeeze(1)), mEnc.index_select(1, alive.nonzero().squeeze(1)));
        TensorAssert.BitEqual(moments[0].Item2.index_select(1, alive.nonzero().squeeze(1)), vEnc.index_select(1, alive.nonzero().squeeze(1)));
        TensorAssert.BitEqual(moments[2].Item1[alive], optimizer.Moments(sae.W_dec).M[alive]);
        TensorAssert.BitEqual(moments[3].Item1, optimizer.Moments(sae.b_dec).M);
        Assert.True(moments[0].Item1.abs().sum().item<float>() > 0, "the optimiser had state to reset");

        // The dead latents: unit decoder rows along inputs, encoder columns at 0.2 × the mean live norm along the same inputs, b_enc 0, no Adam state.
        var centred = x - sae.b_dec;
        foreach (var i in deadIds)
        {
            var row = sae.W_dec[i];
            Assert.Equal(1.0, row.norm().item<float>(), 5);
            double bestCosine = (centred.matmul(row) / centred.norm(1)).max().item<float>();
            Assert.True(bestCosine > 0.9999, $"latent {i}: decoder row is no input direction (best cosine {bestCosine})");
            var column = sae.W_enc[.., i];
            Assert.Equal(0.2 * liveNorm, column.norm().item<float>(), 4);
            Assert.True((column / column.norm()).dot(row).item<float>() > 0.9999);
            Assert.Equal(0f, sae["b_enc"][i].item<float>());
            Assert.Equal(0f, optimizer.Moments(sae.W_enc).M[.., i].abs().sum().item<float>());
            Assert.Equal(0f, optimizer.Moments(sae.W_enc).V[.., i].abs().sum().item<float>());
            Assert.Equal(0f, optimizer.Moments(sae.W_dec).M[i].abs().sum().item<float>());
            Assert.Equal(0f, optimizer.Moments(sae.W_dec).V[i].abs().sum().item<float>());
            Assert.Equal(0f, optimizer.Moments(sae["b_enc"]).V[i].item<float>());
        }
    }

    /// <summary>Fraction of latents that never fire on held-out tokens, and the FVU there.</summary>
    static (double Dead, double Fvu) HeldOut(SparseAutoencoder sae, Tensor dictionary)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (x, _) = SyntheticDictionaryTests.Batches(dictionary, 8192, 99).First();
        var f = sae.Encode(x);
        double dead = (f > 0).any(0).logical_not().to(ScalarType.Float32).mean().item<float>();
        double fvu = ((sae.Decode(f) - x).square().sum() / (x - x.mean([0])).square().sum()).item<float>();
        return (dead, fvu);
    }

    /// <summary>
    /// The synthetic dictionary (64 directions in 32 dimensions, 3 active per token), 128 latents, a decoder-norm-weighted
    /// L1 of λ = 2.2 that leaves about half of the latents dead; dead counts latents that never fire on 8,192 held-out tokens.
    /// </summary>
    [Fact]
    public void UnderAStrongL1ResamplingLeavesFewerDeadLatentsAndNoWorseReconstruction()
    {
        using var dictionary = SyntheticDictionaryTests.Dictionary(1);
        (double Dead, double Fvu, int Resampled) Run(int resampleEvery)
        {
            using var sae = SparseAutoencoder.Initialise(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = DIn, DSae = DSae, HookName = "synthetic" }, seed: 2);
            var result = SaeTrainer.Train(sae, SyntheticDictionaryTests.Batches(dictionary, 512, 3), new SaeTrainingOptions
            {
                Steps = 600, BatchTokens = 512, LearningRate = 3e-3, SparsityCoefficient = 2.2, ResampleEvery = resampleEvery,
            });
            var (dead, fvu) = HeldOut(sae, dictionary);
            return (dead, fvu, result.Resampled);
        }
        var plain = Run(0);
        var resampled = Run(50);
        // Measured: 51.6 % dead, FVU 0.914 without; 40.6 % dead, FVU 0.891 with resampling every 50 steps (257 restarts).
        Assert.True(plain.Dead > 0.4, $"without resampling only {plain.Dead:P0} dead");
        Assert.True(resampled.Dead < plain.Dead - 0.05, $"dead: {plain.Dead:P0} without, {resampled.Dead:P0} with resampling ({resampled.Resampled} resampled)");
        Assert.True(resampled.Fvu <= plain.Fvu, $"FVU: {plain.Fvu:F3} without, {resampled.Fvu:F3} with resampling");
    }
}
