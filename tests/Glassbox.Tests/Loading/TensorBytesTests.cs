using System.Runtime.InteropServices;
using Glassbox.Loading;
using TorchSharp;

namespace Glassbox.Tests.Loading;

/// <summary>The chunked path serves tensors over 2 GB; a tiny chunk size exercises it here.</summary>
public class TensorBytesTests
{
    [Fact]
    public void ChunkedCopiesMatchWholeCopies()
    {
        torch.manual_seed(3);
        using var source = torch.randn(5, 7, dtype: torch.float64);
        var expected = source.bytes.ToArray();

        using var stream = new MemoryStream();
        TensorBytes.WriteTo(source, stream, chunkBytes: 24);
        Assert.Equal(expected, stream.ToArray());

        using var destination = torch.empty([5, 7], torch.float64);
        var pinned = GCHandle.Alloc(expected, GCHandleType.Pinned);
        try { TensorBytes.CopyFrom(destination, pinned.AddrOfPinnedObject(), chunkBytes: 24); }
        finally { pinned.Free(); }
        TensorAssert.BitEqual(source, destination);
    }
}
