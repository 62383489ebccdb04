using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Glassbox.Tests.Reference;

/// <summary>
/// Reads back what <see cref="HfCheckpointWriter"/> writes (float32 safetensors and config.json), so the
/// reference forward pass can run on a directory. Independent of the library's own loader.
/// </summary>
public static class HfCheckpointReader
{
    /// <summary>config.json as plain CLR values: long, double, bool, string, null, object?[] and nested dictionaries.</summary>
    public static Dictionary<string, object?> ReadConfig(string directory)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, HfCheckpointWriter.ConfigFileName)));
        return (Dictionary<string, object?>)ToClr(doc.RootElement)!;
    }

    public static Dictionary<string, (float[] Data, int[] Shape)> ReadSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        int dataStart = 8 + headerLength;
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength));

        var tensors = new Dictionary<string, (float[] Data, int[] Shape)>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            if (dtype != "F32") throw new NotSupportedException($"Tensor '{entry.Name}' is {dtype}; the reference reads F32 only.");
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            int count = shape.Aggregate(1, (a, b) => a * b);
            if (offsets[1] - offsets[0] != 4L * count)
                throw new InvalidDataException($"Tensor '{entry.Name}': offsets [{offsets[0]}, {offsets[1]}] do not fit shape [{string.Join(", ", shape)}].");
            var data = new float[count];
            for (int i = 0; i < count; i++)
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (int)offsets[0] + 4 * i));
            tensors[entry.Name] = (data, shape);
        }
        return tensors;
    }

    public static (Dictionary<string, object?> Config, Dictionary<string, (float[] Data, int[] Shape)> Tensors) Read(string directory) =>
        (ReadConfig(directory), ReadSafetensors(Path.Combine(directory, HfCheckpointWriter.WeightsFileName)));

    static object? ToClr(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => ToClr(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Select(ToClr).ToArray(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
