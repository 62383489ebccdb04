using Glassbox.Loading;
using static TorchSharp.torch;

namespace Glassbox.Tests.Loading;

public class Llama2cVersion1Tests
{
    /// <summary>Rewrites a legacy llama2.c checkpoint in version-1 layout ("ak42", 256-byte header, norms first).</summary>
    static void WriteVersion1(string legacyPath, string path)
    {
        using var reader = new BinaryReader(File.OpenRead(legacyPath));
        int[] h = Enumerable.Range(0, 7).Select(_ => reader.ReadInt32()).ToArray();
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = Math.Abs(h[5]), seqLen = h[6];
        int kvDim = dim / heads * kvHeads;
        float[] Next(long n) => Enumerable.Range(0, (int)n).Select(_ => reader.ReadSingle()).ToArray();
        var embed = Next((long)vocab * dim);
        var attnNorm = Next((long)layers * dim);
        var wq = Next((long)layers * dim * dim); var wk = Next((long)layers * kvDim * dim);
        var wv = Next((long)layers * kvDim * dim); var wo = Next((long)layers * dim * dim);
        var ffnNorm = Next((long)layers * dim);
        var w1 = Next((long)layers * hidden * dim); var w2 = Next((long)layers * dim * hidden); var w3 = Next((long)layers * hidden * dim);
        var finalNorm = Next(dim);

        using var w = new BinaryWriter(File.Create(path));
        w.Write(0x616b3432u);
        w.Write(1);
        foreach (var v in new[] { dim, hidden, layers, heads, kvHeads, vocab, seqLen }) w.Write(v);
        w.Write((byte)1); // shared classifier
        w.Write(new byte[256 - w.BaseStream.Position]);
        foreach (var block in new[] { attnNorm, ffnNorm, finalNorm, embed, wq, wk, wv, wo, w1, w2, w3 })
            foreach (var f in block) w.Write(f);
    }

    [SharedFact]
    public void Version1FileGivesTheSameLogitsAsLegacy()
    {
        using var dir = new TempDirectory();
        var v1 = dir.File("stories260K.v1.bin");
        WriteVersion1(SharedModels.Stories260K, v1);
        using var legacy = ModelLoader.Load(SharedModels.Stories260K);
        using var version1 = ModelLoader.Load(v1);
        using var scope = NewDisposeScope();
        var tokens = tensor(new long[] { 1, 403, 407, 261, 378, 432, 383 });
        Assert.True(legacy.Forward(tokens).equal(version1.Forward(tokens)).all().item<bool>());
    }

    [Fact]
    public void UnsupportedVersionIsAClearError()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q8.bin");
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write(0x616b3432u);
            w.Write(2);
            w.Write(new byte[300]);
        }
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(path));
        Assert.Contains("version 2", e.Message);
    }
}
