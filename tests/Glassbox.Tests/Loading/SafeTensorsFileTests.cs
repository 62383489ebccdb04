using System.Buffers.Binary;
using Glassbox.Loading;

namespace Glassbox.Tests.Loading;

public class SafeTensorsFileTests
{
    /// <summary>Opens a hand-built file that must be rejected and returns the error message.</summary>
    static string Rejects(string header, int dataBytes)
    {
        using var dir = new TempDirectory();
        var path = dir.WriteRaw("model.safetensors", header, dataBytes);
        return Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path)).Message;
    }

    static string RejectsBytes(byte[] bytes)
    {
        using var dir = new TempDirectory();
        var path = dir.WriteBytes("model.safetensors", bytes);
        return Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path)).Message;
    }

    static byte[] WithHeaderLength(ulong length, int totalBytes)
    {
        var bytes = new byte[totalBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        return bytes;
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        var message = RejectsBytes([1, 0, 0, 0, 0]);
        Assert.StartsWith("model.safetensors: ", message);
        Assert.Contains("only 5 bytes", message);
        Assert.Contains("truncated", message);
    }

    [Fact]
    public void HeaderLengthPastEndOfFileIsRejected()
    {
        var message = RejectsBytes(WithHeaderLength(1000, 64));
        Assert.Contains("header length 1000 runs past the end of the file (64 bytes)", message);
    }

    [Fact]
    public void HugeHeaderLengthIsRejectedAndPickleIsNamed()
    {
        var bytes = WithHeaderLength(0, 64);
        "PK\u0003\u0004PKPK"u8.CopyTo(bytes);
        var message = RejectsBytes(bytes);
        Assert.Contains("exceeds the 100000000-byte limit", message);
        Assert.Contains("pickle", message);
    }

    [Fact]
    public void HeaderThatIsNotJsonIsRejected() =>
        Assert.Contains("header is not valid JSON", Rejects("{\"a\": ", 0));

    [Fact]
    public void HeaderThatIsNotAnObjectIsRejected() =>
        Assert.Contains("header is a JSON Array, not a JSON object", Rejects("[1, 2]", 0));

    [Fact]
    public void MissingFieldIsRejected() =>
        Assert.Contains("tensor 'w' has no 'data_offsets'", Rejects("""{"w":{"dtype":"F32","shape":[2]}}""", 8));

    [Fact]
    public void UnknownDtypeIsRejected()
    {
        var message = Rejects("""{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2);
        Assert.Contains("tensor 'w' has unknown dtype 'F8_E4M3'", message);
        Assert.Contains("BF16", message);
    }

    [Fact]
    public void NegativeShapeIsRejected() =>
        Assert.Contains("tensor 'w' has shape -1 in [4,-1]; entries must be non-negative integers",
            Rejects("""{"w":{"dtype":"F32","shape":[4,-1],"data_offsets":[0,0]}}""", 0));

    [Fact]
    public void SizeMismatchIsRejected() =>
        Assert.Equal("model.safetensors: tensor 'h.0.attn.c_attn.weight' has data_offsets [0, 100] but shape [4, 8] of F32 needs 128 bytes",
            Rejects("""{"h.0.attn.c_attn.weight":{"dtype":"F32","shape":[4,8],"data_offsets":[0,100]}}""", 128));

    [Fact]
    public void OffsetsPastTheDataSectionAreRejected() =>
        Assert.Contains("tensor 'w' has data_offsets [8, 16] past the end of the data section (12 bytes)",
            Rejects("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 12));

    [Fact]
    public void ReversedOffsetsAreRejected() =>
        Assert.Contains("tensor 'w' has data_offsets [8, 0]; expected [begin, end] with begin <= end",
            Rejects("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8));

    [Fact]
    public void OverlappingOffsetsAreRejected() =>
        Assert.Contains("tensors 'a' [0, 16] and 'b' [8, 24] have overlapping data_offsets",
            Rejects("""{"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 24));

    [Fact]
    public void RepeatedNameIsRejected() =>
        Assert.Contains("header names 'w' twice",
            Rejects("""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2));

    [Fact]
    public void NonStringMetadataIsRejected() =>
        Assert.Contains("__metadata__ entry 'step' is a JSON Number, not a string", Rejects("""{"__metadata__":{"step":3}}""", 0));

    [Fact]
    public void ValidHeaderIsListedWithMetadata()
    {
        using var dir = new TempDirectory();
        var path = dir.WriteRaw("model.safetensors",
            """{"__metadata__":{"format":"pt"},"b":{"dtype":"I8","shape":[],"data_offsets":[2,3]},"a":{"dtype":"BOOL","shape":[2,0],"data_offsets":[0,0]},"c":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}  """, 3);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["a", "b", "c"], file.Tensors.Select(t => t.Name));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.True(file.Contains("b"));
        Assert.False(file.Contains("__metadata__"));
        var c = file.Info("c");
        Assert.Equal(("U8", 0L, 2L), (c.DType, c.Begin, c.End));
        Assert.Equal([2L], c.Shape);
    }

    [Fact]
    public void UnknownNameSuggestsCloseMatches()
    {
        using var dir = new TempDirectory();
        var path = dir.WriteRaw("model.safetensors",
            """{"transformer.h.0.attn.c_attn.weight":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"transformer.wte.weight":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2);
        using var file = SafeTensorsFile.Open(path);
        var message = Assert.Throws<ModelFormatException>(() => file.Read("h.0.attn.c_attn.weight")).Message;
        Assert.Equal("model.safetensors: no tensor 'h.0.attn.c_attn.weight'; did you mean 'transformer.h.0.attn.c_attn.weight'?", message);
    }
}
