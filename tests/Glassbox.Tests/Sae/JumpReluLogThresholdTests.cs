using Glassbox.Sae;
using Glassbox.Tests.Loading;
using Glassbox.Training;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

/// <summary>JumpReLU trains log θ: its gradient is θ times the straight-through gradient w.r.t. θ, and θ cannot go negative.</summary>
public class JumpReluLogThresholdTests
{
    const int DIn = 6, DSae = 10;
    const double Bandwidth = 0.5, Lambda = 0.3;

    static JumpReluSae Sae()
    {
        var sae = (JumpReluSae)SparseAutoencoder.Initialise(new SaeConfig { Architecture = SaeArchitecture.JumpRelu, DIn = DIn, DSae = DSae, HookName = "x" }, seed: 4, dtype: ScalarType.Float64);
        using var _ = no_grad();
        sae.Threshold.copy_(rand([DSae], dtype: ScalarType.Float64, generator: new Generator(5)) * 0.4 + 0.05);
        sae.StartTraining(Bandwidth);
        return sae;
    }

    [Fact]
    public void LogThresholdGradientIsThetaTimesTheStraightThroughGradient()
    {
        using var scope = NewDisposeScope();
        using var sae = Sae();
        var x = randn([40, DIn], dtype: ScalarType.Float64, generator: new Generator(6)) * 0.5;
        sae.LogThreshold.requires_grad_(true);
        sae.Loss(x, x, new SaeStepState(Lambda, null)).Total.backward();
        var logGrad = sae.LogThreshold.grad!.clone();
        sae.LogThreshold.requires_grad_(false);

        // The paper's estimators w.r.t. θ, written out: ∂L/∂θ_i = Σ_n [∂MSE/∂f_ni · (−θ_i/ε) K_ni − (λ/N)(1/ε) K_ni].
        using var _ = no_grad();
        var theta = sae.Threshold;
        var pre = sae.PreActivations(x);
        var kernel = ((pre - theta).abs() < Bandwidth / 2).to(ScalarType.Float64) / Bandwidth;
        var reconstruction = sae.Decode(pre * (pre > theta).to(ScalarType.Float64));
        var dMseDf = 2 * (reconstruction - x).matmul(sae.W_dec.t()) / x.shape[0];
        var thetaGrad = (dMseDf * -theta * kernel).sum(dim: 0) - Lambda * kernel.sum(dim: 0) / x.shape[0];

        Assert.True(kernel.sum().item<double>() > 20, "the check needs pre-activations inside the kernel window");
        double scale = logGrad.abs().max().item<double>();
        double error = (theta * thetaGrad - logGrad).abs().max().item<double>();
        Assert.True(scale > 1e-3 && error < 1e-12 * scale, $"max |∂L/∂log θ| {scale}, error {error}");
    }

    [Fact]
    public void ThresholdStaysPositiveUnderALargeNegativeUpdate()
    {
        using var sae = Sae();
        using var optimizer = new AdamW(sae.Parameters, weightDecay: 0);
        using (no_grad()) sae.LogThreshold.grad = full([DSae], 1e3, dtype: ScalarType.Float64);
        optimizer.Step(lr: 20); // log θ falls by ≈ 20: θ directly would have gone to ≈ −20
        sae.AfterStep(null!, null!);
        double smallest = sae.Threshold.min().item<double>();
        Assert.True(smallest > 0 && smallest < 1e-8, $"smallest θ {smallest}");
        using var exp = sae.LogThreshold.exp();
        TensorAssert.BitEqual(exp, sae.Threshold);
    }

    [Fact]
    public void TheConfiguredStartingThresholdInitialisesSavesAndRestartsResampledLatents()
    {
        using var scope = NewDisposeScope();
        var config = new SaeConfig { Architecture = SaeArchitecture.JumpRelu, DIn = DIn, DSae = DSae, HookName = "x", JumpReluInitThreshold = 0.05 };
        using var sae = (JumpReluSae)SparseAutoencoder.Initialise(config, seed: 4, dtype: ScalarType.Float64);
        Assert.Equal(0.05, sae.Threshold.min().item<double>(), 15);
        Assert.Equal(0.05, sae.Threshold.max().item<double>(), 15);

        using var dir = new TempDirectory();
        SaeFiles.Save(sae, dir.Path);
        Assert.Equal(0.05, SaeFiles.LoadConfig(dir.Path).JumpReluInitThreshold);

        // A resampled latent restarts from θ₀, not from the default 1e-3.
        sae.StartTraining(1e-3);
        using (no_grad()) sae.LogThreshold.fill_(Math.Log(0.7));
        using var optimizer = new AdamW(sae.Parameters, weightDecay: 0);
        var dead = zeros(DSae, ScalarType.Bool);
        dead[2] = true;
        var x = randn(64, DIn, dtype: ScalarType.Float64, generator: new Generator(3));
        DeadLatentResampling.Resample(sae, optimizer, dead, x, x, new Generator(7));
        Assert.Equal(Math.Log(0.05), sae.LogThreshold[2].item<double>(), 12);
        Assert.Equal(Math.Log(0.7), sae.LogThreshold[3].item<double>(), 12);

        var error = Assert.Throws<GlassboxException>(() => (config with { JumpReluInitThreshold = 0 }).Validated());
        Assert.Contains("initial threshold θ₀ must be a positive number", error.Message);
    }

    [Fact]
    public void SaveLoadKeepsThetaExactlyAndTrainsFromItsLog()
    {
        using var dir = new TempDirectory();
        using var sae = Sae();
        SaeFiles.Save(sae, dir.Path);
        using var loaded = (JumpReluSae)SaeFiles.Load(dir.Path, dtype: ScalarType.Float64);
        TensorAssert.BitEqual(sae.Threshold, loaded.Threshold);
        using var log = sae.Threshold.log();
        TensorAssert.BitEqual(log, loaded.LogThreshold);
    }
}
