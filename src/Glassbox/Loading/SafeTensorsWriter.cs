using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;

namespace Glassbox.Loading;

/// <summary>
/// Writes safetensors files laid out as the reference implementation lays them out: tensors sorted by
/// descending dtype alignment then by name (so each starts aligned to its element size), metadata first in
/// the header, and the header padded with spaces to a multiple of 8 bytes. The file is written beside its
/// destination and renamed into place, so a failed write never leaves a half-written checkpoint.
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = Layout(tensors);
        var header = Header(entries, metadata);
        var temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var entry in entries)
                {
                    using var scope = torch.NewDisposeScope();
                    TensorBytes.WriteTo(entry.Tensor.detach().cpu().contiguous(), stream);
                }
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(temporary)) File.Delete(temporary);
            throw;
        }
    }

    sealed record Entry(string Name, torch.Tensor Tensor, SafeTensorsDType DType, long[] Shape, long Begin, long End);

    static List<Entry> Layout(IEnumerable<KeyValuePair<string, torch.Tensor>> tensors)
    {
        var seen = new HashSet<string>();
        var sorted = tensors
            .Select(pair =>
            {
                if (pair.Key == SafeTensorsHeader.MetadataKey || !seen.Add(pair.Key))
                    throw new ArgumentException($"Tensor name '{pair.Key}' is reserved or repeated", nameof(tensors));
                var dtype = SafeTensorsDType.FromScalarType(pair.Value.dtype)
                    ?? throw new ArgumentException($"Tensor '{pair.Key}' has dtype {pair.Value.dtype}, which safetensors cannot store here (supported: {SafeTensorsDType.KnownNames})", nameof(tensors));
                return (pair.Key, pair.Value, dtype);
            })
            .OrderByDescending(t => t.dtype.Rank).ThenBy(t => t.Key, StringComparer.Ordinal)
            .ToList();

        var entries = new List<Entry>(sorted.Count);
        long offset = 0;
        foreach (var (name, tensor, dtype) in sorted)
        {
            long bytes = tensor.numel() * dtype.Size;
            entries.Add(new Entry(name, tensor, dtype, tensor.shape, offset, offset + bytes));
            offset += bytes;
        }
        return entries;
    }

    static byte[] Header(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata != null)
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.DType.Name);
                WriteArray(json, "shape", entry.Shape);
                WriteArray(json, "data_offsets", [entry.Begin, entry.End]);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    static void WriteArray(Utf8JsonWriter json, string name, long[] values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteNumberValue(value);
        json.WriteEndArray();
    }
}
