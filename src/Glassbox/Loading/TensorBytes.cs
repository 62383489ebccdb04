using TorchSharp;

namespace Glassbox.Loading;

/// <summary>
/// Moves raw bytes between memory and contiguous CPU tensors. <see cref="torch.Tensor.bytes"/> is a
/// <see cref="Span{T}"/> and so stops at 2 GB; large tensors go through 1-D slices of at most
/// <see cref="ChunkBytes"/> each, which libtorch addresses at their own offset. Tests pass a small
/// <c>chunkBytes</c> to exercise that path without gigabytes of memory.
/// </summary>
internal static class TensorBytes
{
    public const long ChunkBytes = 1L << 30;

    /// <summary>Fills <paramref name="destination"/> from the memory at <paramref name="source"/>, which must hold enough bytes.</summary>
    public static unsafe void CopyFrom(torch.Tensor destination, IntPtr source, long chunkBytes = ChunkBytes)
    {
        ForEachChunk(destination, chunkBytes, (span, offset) => new ReadOnlySpan<byte>((byte*)source + offset, span.Length).CopyTo(span));
    }

    public static void WriteTo(torch.Tensor source, Stream stream, long chunkBytes = ChunkBytes)
    {
        ForEachChunk(source, chunkBytes, (span, _) => stream.Write(span));
    }

    static void ForEachChunk(torch.Tensor tensor, long chunkBytes, SpanAction action)
    {
        long count = tensor.numel(), elementSize = tensor.element_size();
        if (count == 0) return;
        if (count * elementSize <= chunkBytes)
        {
            action(tensor.bytes, 0);
            return;
        }
        long perChunk = Math.Max(1, chunkBytes / elementSize);
        using var flat = tensor.reshape(-1);
        for (long start = 0; start < count; start += perChunk)
        {
            using var slice = flat.narrow(0, start, Math.Min(perChunk, count - start));
            action(slice.bytes, start * elementSize);
        }
    }

    delegate void SpanAction(Span<byte> span, long offset);
}
