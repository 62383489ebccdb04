using Glassbox.Sae;
using static TorchSharp.torch;

namespace Glassbox.Tests.Sae;

/// <summary>
/// Acceptance: on data made from a known sparse dictionary (random unit directions, sparse non-negative codes), TopK
/// and JumpReLU SAEs recover ≥ 90 % of the true directions at cosine ≥ 0.9.
/// </summary>
public class SyntheticDictionaryTests
{
    const int DIn = 32, Features = 64, Active = 3;

    /// <summary>x = c D with D [64, 32] random unit rows and, per token, 3 features on with magnitudes in [0.5, 1.5].</summary>
    internal static IEnumerable<(Tensor, Tensor)> Batches(Tensor dictionary, int batch, int seed)
    {
        var generator = new Generator((ulong)seed);
        while (true)
        {
            using var scope = NewDisposeScope();
            var scores = rand([batch, Features], generator: generator);
            var (_, indices) = scores.topk(Active, dim: 1);
            var magnitudes = rand([batch, Active], generator: generator) + 0.5;
            var codes = zeros(batch, Features).scatter(1, indices, magnitudes);
            var x = codes.matmul(dictionary).MoveToOuterDisposeScope();
            yield return (x, x);
        }
    }

    internal static Tensor Dictionary(int seed)
    {
        var d = randn([Features, DIn], generator: new Generator((ulong)seed));
        return d / d.norm(1, keepdim: true);
    }

    /// <summary>Fraction of true directions whose best-matching decoder row has cosine ≥ 0.9.</summary>
    internal static double Recovered(Tensor dictionary, SparseAutoencoder sae)
    {
        using var scope = NewDisposeScope();
        var rows = sae.W_dec / sae.W_dec.norm(1, keepdim: true);
        var best = dictionary.matmul(rows.t()).max(1).values;
        return (best >= 0.9).to(ScalarType.Float32).mean().item<float>();
    }

    [Fact]
    public void TopKRecoversTheDictionary()
    {
        using var dictionary = Dictionary(1);
        using var sae = SparseAutoencoder.Initialise(new SaeConfig { Architecture = SaeArchitecture.TopK, DIn = DIn, DSae = 128, K = Active, HookName = "synthetic" }, seed: 2);
        var result = SaeTrainer.Train(sae, Batches(dictionary, 512, 3),
            new SaeTrainingOptions { Steps = 600, BatchTokens = 512, LearningRate = 3e-3, DeadTokens = 5_000 });
        double recovered = Recovered(dictionary, sae);
        Assert.True(recovered >= 0.9, $"TopK recovered {recovered:P0} of the directions (FVU {result.Final.Fvu:F3}, dead {result.Final.DeadFraction:P0})");
        Assert.True(result.Final.Fvu < 0.1, $"FVU {result.Final.Fvu:F3}");
    }

    [Fact]
    public void JumpReluRecoversTheDictionary()
    {
        using var dictionary = Dictionary(1);
        // log θ moves by about the learning rate per step, so a 600-step run starts θ near the scale it must reach.
        using var sae = (JumpReluSae)SparseAutoencoder.Initialise(new SaeConfig
            { Architecture = SaeArchitecture.JumpRelu, DIn = DIn, DSae = 128, HookName = "synthetic", JumpReluInitThreshold = 0.1 }, seed: 2);
        var result = SaeTrainer.Train(sae, Batches(dictionary, 512, 3),
            new SaeTrainingOptions { Steps = 600, BatchTokens = 512, LearningRate = 3e-3, SparsityCoefficient = 0.1, JumpReluBandwidth = 0.05 });
        double recovered = Recovered(dictionary, sae);
        Assert.True(recovered >= 0.9, $"JumpReLU recovered {recovered:P0} of the directions (FVU {result.Final.Fvu:F3}, L0 {result.Final.L0:F1})");
        Assert.True(result.Final.L0 < 2 * Active, $"L0 {result.Final.L0:F1}");
    }

    /// <summary>The other architectures train on the same data: they reconstruct it sparsely and find most directions.</summary>
    [Theory]
    [InlineData(SaeArchitecture.BatchTopK, 0.0)]
    [InlineData(SaeArchitecture.Standard, 0.3)]
    [InlineData(SaeArchitecture.Gated, 1.0)]
    public void OtherArchitecturesLearnASparseReconstruction(SaeArchitecture architecture, double sparsity)
    {
        using var dictionary = Dictionary(1);
        using var sae = SparseAutoencoder.Initialise(new SaeConfig { Architecture = architecture, DIn = DIn, DSae = 128, K = Active, HookName = "synthetic" }, seed: 2);
        var result = SaeTrainer.Train(sae, Batches(dictionary, 512, 3),
            new SaeTrainingOptions { Steps = 600, BatchTokens = 512, LearningRate = 3e-3, SparsityCoefficient = sparsity, DeadTokens = 5_000 });
        double recovered = Recovered(dictionary, sae);
        Assert.True(result.Final.Fvu < 0.2, $"{architecture}: FVU {result.Final.Fvu:F3}, L0 {result.Final.L0:F1}, recovered {recovered:P0}");
        Assert.True(result.Final.L0 < 4 * Active, $"{architecture}: L0 {result.Final.L0:F1}");
        Assert.True(recovered >= 0.5, $"{architecture}: recovered {recovered:P0} (FVU {result.Final.Fvu:F3}, L0 {result.Final.L0:F1})");
    }
}
