using Glassbox.Probing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

public class MassMeanProbeTests(ITestOutputHelper output)
{
    /// <summary>Isotropic noise, means ±s·û: the Bayes rule is sign(ûᵀh), accuracy Φ(s).</summary>
    [Fact]
    public void ThePlantedDirectionIsFoundAndTheAccuracyIsBayes()
    {
        using var scope = NewDisposeScope();
        const double strength = 1.5;
        var (x, y, direction) = PlantedData.Create(2000, 32, strength, seed: 9);
        var (train, test) = ProbeSweep.Split(2000, 0.5, seed: 4);
        var (trainIdx, testIdx) = (tensor(train.Select(i => (long)i).ToArray()), tensor(test.Select(i => (long)i).ToArray()));
        var (yTrain, yTest) = (train.Select(i => y[i]).ToArray(), test.Select(i => y[i]).ToArray());
        double bayes = Phi(strength);
        foreach (bool iid in new[] { false, true })
        {
            using var probe = MassMeanProbe.Train(x[trainIdx], yTrain, 2, iid);
            double cosine = nn.functional.cosine_similarity(probe.Direction.to(ScalarType.Float32), direction, 0).item<float>();
            double accuracy = probe.Accuracy(x[testIdx], yTest);
            output.WriteLine($"mass-mean{(iid ? " (IID)" : "")}: cos(θ, planted) {cosine:F4}, held-out accuracy {accuracy:F3}, Bayes {bayes:F3}");
            Assert.True(cosine >= 0.95, $"cosine {cosine:F4}");
            Assert.True(Math.Abs(accuracy - bayes) <= 0.03, $"accuracy {accuracy:F3}, Bayes {bayes:F3}");
        }
    }

    /// <summary>
    /// Noise with σ = 5 along e₀, means ±(e₀ + e₁)·√2: the Bayes rule reads Σ⁻¹θ (accuracy Φ(Δ/2), Δ² = θᵀΣ⁻¹θ, here 0.925)
    /// and only the IID version finds it; the plain mass-mean direction (1, 1) reaches Φ(θᵀθ / 2√(θᵀΣθ)) = 0.71.
    /// </summary>
    [Fact]
    public void TheIidVersionIsBayesUnderAnisotropicNoise()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(21);
        int n = 4000, d = 16;
        var y = Enumerable.Range(0, n).Select(i => i % 2).ToArray();
        var x = randn(n, d, generator: generator);
        x[.., 0] *= 5;
        var sign = tensor(y.Select(v => 2.0f * v - 1).ToArray());
        x[.., 0] += sign * (float)Math.Sqrt(2);
        x[.., 1] += sign * (float)Math.Sqrt(2);
        var (train, test) = ProbeSweep.Split(n, 0.5, seed: 2);
        var (trainIdx, testIdx) = (tensor(train.Select(i => (long)i).ToArray()), tensor(test.Select(i => (long)i).ToArray()));
        var (yTrain, yTest) = (train.Select(i => y[i]).ToArray(), test.Select(i => y[i]).ToArray());
        double bayes = Phi(Math.Sqrt(4 * (2.0 / 25 + 2)) / 2), plainTheory = Phi(16 / (2 * Math.Sqrt(208))); // θ = (2√2, 2√2, 0, …)
        using var plain = MassMeanProbe.Train(x[trainIdx], yTrain, 2);
        using var iid = MassMeanProbe.Train(x[trainIdx], yTrain, 2, iid: true);
        double plainAccuracy = plain.Accuracy(x[testIdx], yTest), iidAccuracy = iid.Accuracy(x[testIdx], yTest);
        output.WriteLine($"anisotropic noise: mass-mean {plainAccuracy:F3} (theory {plainTheory:F3}), IID {iidAccuracy:F3} (Bayes {bayes:F3})");
        Assert.True(Math.Abs(iidAccuracy - bayes) <= 0.03, $"IID {iidAccuracy:F3}, Bayes {bayes:F3}");
        Assert.True(Math.Abs(plainAccuracy - plainTheory) <= 0.04, $"plain {plainAccuracy:F3}, theory {plainTheory:F3}");
    }

    [Fact]
    public void OneClassOnlyIsPredictedAsThatClass()
    {
        using var scope = NewDisposeScope();
        var x = randn(10, 4);
        foreach (int label in new[] { 0, 1 })
        {
            using var probe = MassMeanProbe.Train(x, Enumerable.Repeat(label, 10).ToArray(), 2);
            Assert.All(probe.Predict(randn(5, 4)), p => Assert.Equal(label, p));
        }
        Assert.Throws<GlassboxException>(() => MassMeanProbe.Train(x, Enumerable.Range(0, 10).Select(i => i % 3).ToArray(), 3));
    }

    static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    static double Erf(double z)
    {
        // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
        double t = 1 / (1 + 0.3275911 * Math.Abs(z));
        double e = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-z * z);
        return Math.Sign(z) * e;
    }
}
