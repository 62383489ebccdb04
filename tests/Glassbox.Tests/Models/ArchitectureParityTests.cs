using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tests.Reference;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

/// <summary>The TorchSharp runtime against the independent float64 loop-based reference, on checkpoints in exact HF layout.</summary>
public class ArchitectureParityTests
{
    [Theory]
    [MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))]
    public void HfCheckpointMatchesTheReferenceForward(string name)
    {
        var checkpoint = TinyCheckpoints.ByName(name);
        using var dir = new TempDirectory();
        checkpoint.WriteTo(dir.Path);
        var tokens = TinyCheckpoints.RandomTokens(seed: 1, count: checkpoint.ContextLength, checkpoint.VocabSize);
        var expected = checkpoint.LogProbs(tokens);

        using var model = ModelLoader.Load(dir.Path);
        using var scope = NewDisposeScope();
        var actual = model.Forward(tensor(tokens.Select(t => (long)t).ToArray())).log_softmax(-1)[0].to(ScalarType.Float64);
        AssertClose(expected, actual, 1e-4, name);

        // Processed weights (folded norms, centred writers and unembedding, folded value biases) give the same log-probs.
        using var processed = WeightProcessing.Process(model);
        AssertClose(expected, processed.Forward(tensor(tokens.Select(t => (long)t).ToArray())).log_softmax(-1)[0].to(ScalarType.Float64), 1e-4, name + " processed");
    }

    [SharedFact]
    public void Llama2cAndItsHfConversionGiveTheSameLogProbs()
    {
        using var dir = new TempDirectory();
        Llama2cToHf.Write(SharedModels.Stories260K, dir.Path);
        using var viaLlama2c = ModelLoader.Load(SharedModels.Stories260K);
        using var viaHf = ModelLoader.Load(dir.Path);
        Assert.Equal(RotaryLayout.Pairs, viaLlama2c.Config.RotaryLayout);
        Assert.Equal(RotaryLayout.Halves, viaHf.Config.RotaryLayout);
        using var scope = NewDisposeScope();
        var tokens = tensor(TinyCheckpoints.RandomTokens(seed: 5, count: 128, vocab: 512).Select(t => (long)t).ToArray());
        var a = viaLlama2c.Forward(tokens).log_softmax(-1);
        var b = viaHf.Forward(tokens).log_softmax(-1);
        double diff = (a - b).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"max |Δ log p| = {diff}");

        var reference = ReferenceForward.Llama2cLogProbs(SharedModels.Stories260K, TinyCheckpoints.RandomTokens(seed: 5, count: 128, vocab: 512));
        AssertClose(reference, a[0].to(ScalarType.Float64), 1e-4, "stories260K");
    }

    static void AssertClose(double[,] expected, Tensor actual, double tol, string what)
    {
        var got = actual.data<double>().ToArray();
        int vocab = expected.GetLength(1);
        double worst = 0;
        for (int p = 0; p < expected.GetLength(0); p++)
            for (int v = 0; v < vocab; v++)
                worst = Math.Max(worst, Math.Abs(expected[p, v] - got[p * vocab + v]));
        Assert.True(worst < tol, $"{what}: max |Δ log p| = {worst:g3} (tolerance {tol:g})");
    }
}
