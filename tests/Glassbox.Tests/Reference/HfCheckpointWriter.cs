using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Glassbox.Tests.Reference;

/// <summary>
/// Writes a Hugging Face model directory (<c>config.json</c> + <c>model.safetensors</c>) with nothing
/// but the BCL, so that tests of the library's loaders read files the library did not write.
/// </summary>
/// <remarks>
/// safetensors layout: an unsigned 64-bit little-endian header length N, then N bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>
/// padded with spaces so that N is a multiple of 8, then the raw little-endian float32 data;
/// offsets are relative to the end of the header.
/// </remarks>
public static class HfCheckpointWriter
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Creates <paramref name="directory"/> if needed and writes both files into it. Returns the directory.</summary>
    public static string Write(string directory, IReadOnlyDictionary<string, object?> config,
        IReadOnlyDictionary<string, (float[] Data, int[] Shape)> tensors)
    {
        Directory.CreateDirectory(directory);
        WriteConfig(Path.Combine(directory, ConfigFileName), config);
        WriteSafetensors(Path.Combine(directory, WeightsFileName), tensors);
        return directory;
    }

    /// <summary>Writes config.json with its keys sorted, as transformers does (json.dumps(sort_keys=True)).</summary>
    public static void WriteConfig(string path, IReadOnlyDictionary<string, object?> config)
    {
        var sorted = new SortedDictionary<string, object?>(config.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
        File.WriteAllText(path, JsonSerializer.Serialize(sorted, JsonOptions) + "\n");
    }

    /// <summary>Writes float32 tensors, in ordinal name order, with <c>__metadata__ = {"format": "pt"}</c> as transformers does.</summary>
    public static void WriteSafetensors(string path, IReadOnlyDictionary<string, (float[] Data, int[] Shape)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata ?? new Dictionary<string, string> { ["format"] = "pt" })
                json.WriteString(key, value);
            json.WriteEndObject();

            long offset = 0;
            foreach (var name in names)
            {
                var (data, shape) = tensors[name];
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (count != data.Length)
                    throw new ArgumentException($"Tensor '{name}' has {data.Length} values but shape [{string.Join(", ", shape)}] needs {count}.");
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var dim in shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + 4L * data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += 4L * data.Length;
            }
            json.WriteEndObject();
        }

        var headerBytes = header.ToArray().ToList();
        while (headerBytes.Count % 8 != 0) headerBytes.Add((byte)' ');

        using var file = File.Create(path);
        var lengthPrefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthPrefix, (ulong)headerBytes.Count);
        file.Write(lengthPrefix);
        file.Write(headerBytes.ToArray());

        foreach (var name in names)
        {
            var data = tensors[name].Data;
            var bytes = new byte[4 * data.Length];
            for (int i = 0; i < data.Length; i++)
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), data[i]);
            file.Write(bytes);
        }
    }

    /// <summary>The header JSON of a safetensors file as text (without its padding), for tests of the format itself.</summary>
    public static string ReadHeaderText(string path)
    {
        using var file = File.OpenRead(path);
        var lengthPrefix = new byte[8];
        file.ReadExactly(lengthPrefix);
        var header = new byte[checked((int)BinaryPrimitives.ReadUInt64LittleEndian(lengthPrefix))];
        file.ReadExactly(header);
        return Encoding.UTF8.GetString(header).TrimEnd(' ');
    }
}
