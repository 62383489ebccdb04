using Glassbox.Probing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

public class OnlineCodeTests(ITestOutputHelper output)
{
    /// <summary>
    /// Measured: the planted concept costs 162 bits against the uniform 1000 (compression 6.2); the same activations with
    /// shuffled labels cost 1324 bits (0.76): the online code charges the probe for fitting noise, so no compression, or less than none.
    /// </summary>
    [Fact]
    public void APlantedConceptCompressesFarMoreThanShuffledLabels()
    {
        using var scope = NewDisposeScope();
        var (x, y, _) = PlantedData.Create(1000, 32, 2.0, seed: 12);
        var shuffled = y.ToArray();
        new Random(3).Shuffle(shuffled);
        var planted = OnlineCode.Measure(x, y, 2);
        var random = OnlineCode.Measure(x, shuffled, 2);
        output.WriteLine($"blocks end at {string.Join(", ", planted.BlockEnds)}; uniform {planted.UniformBits:F1} bits");
        output.WriteLine($"planted: {planted.Bits:F1} bits, compression {planted.Compression:F2}; shuffled: {random.Bits:F1} bits, compression {random.Compression:F2}");
        Assert.Equal([16, 32, 62, 125, 250, 500, 1000], planted.BlockEnds);
        Assert.Equal(1000, planted.UniformBits, 9);
        Assert.True(planted.Compression >= 5, $"planted compression {planted.Compression:F2}");
        Assert.InRange(random.Compression, 0.6, 1.05);
    }

    [Fact]
    public void MassMeanProbesAreRefusedForMdl()
    {
        using var scope = NewDisposeScope();
        var (x, y, _) = PlantedData.Create(100, 4, 2.0, seed: 1);
        var e = Assert.Throws<GlassboxException>(() => OnlineCode.Measure(x, y, 2, new ProbeSweepOptions { Kind = ProbeKind.MassMean }));
        Assert.Contains("mass-mean", e.Message);
    }
}
