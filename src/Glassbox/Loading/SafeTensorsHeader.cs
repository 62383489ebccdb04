using System.Text.Json;

namespace Glassbox.Loading;

/// <summary>
/// Parses and validates a safetensors JSON header against the size of the data section that follows it.
/// Everything is checked before any tensor is exposed, so a later read can trust the offsets it is given
/// and never touches memory outside the mapped file.
/// </summary>
internal static class SafeTensorsHeader
{
    public const string MetadataKey = "__metadata__";

    /// <summary>Returns the tensors (sorted by name) and the metadata; <paramref name="file"/> prefixes every error.</summary>
    public static (TensorInfo[] Tensors, Dictionary<string, string> Metadata) Parse(byte[] json, long dataLength, string file)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw Error(file, $"header is not valid JSON ({e.Message})", e); }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Error(file, $"header is a JSON {doc.RootElement.ValueKind}, not a JSON object");

            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(entry.Name)) throw Error(file, $"header names '{entry.Name}' twice");
                if (entry.Name == MetadataKey) ReadMetadata(entry.Value, metadata, file);
                else tensors.Add(ReadTensor(entry.Name, entry.Value, dataLength, file));
            }
            CheckNoOverlap(tensors, file);
            tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return (tensors.ToArray(), metadata);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(file, $"{MetadataKey} is a JSON {value.ValueKind}, not a map of strings to strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Error(file, $"{MetadataKey} entry '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static TensorInfo ReadTensor(string name, JsonElement value, long dataLength, string file)
    {
        string where = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(file, $"{where} is a JSON {value.ValueKind}, not an object with dtype, shape and data_offsets");

        var dtypeName = Property(value, "dtype", JsonValueKind.String, where, file).GetString()!;
        var dtype = SafeTensorsDType.FromName(dtypeName)
            ?? throw Error(file, $"{where} has unknown dtype '{dtypeName}' (known: {SafeTensorsDType.KnownNames})");
        var shape = Integers(Property(value, "shape", JsonValueKind.Array, where, file), "shape", where, file);
        var offsets = Integers(Property(value, "data_offsets", JsonValueKind.Array, where, file), "data_offsets", where, file);
        if (offsets.Length != 2 || offsets[0] > offsets[1])
            throw Error(file, $"{where} has data_offsets {Format(offsets)}; expected [begin, end] with begin <= end");
        long begin = offsets[0], end = offsets[1];

        long needed;
        try { needed = checked(shape.Aggregate(1L, (n, d) => n * d) * dtype.Size); }
        catch (OverflowException) { throw Error(file, $"{where} has shape {Format(shape)}, too large to address"); }
        if (end - begin != needed)
            throw Error(file, $"{where} has data_offsets [{begin}, {end}] but shape {Format(shape)} of {dtype.Name} needs {needed} bytes");
        if (end > dataLength)
            throw Error(file, $"{where} has data_offsets [{begin}, {end}] past the end of the data section ({dataLength} bytes); the file is truncated or corrupt");
        return new TensorInfo(name, dtype.Name, shape, begin, end);
    }

    /// <summary>Spans sorted by start must each end before the next begins.</summary>
    static void CheckNoOverlap(List<TensorInfo> tensors, string file)
    {
        var byBegin = tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ToArray();
        for (int i = 1; i < byBegin.Length; i++)
        {
            TensorInfo a = byBegin[i - 1], b = byBegin[i];
            if (b.Begin < a.End)
                throw Error(file, $"tensors '{a.Name}' [{a.Begin}, {a.End}] and '{b.Name}' [{b.Begin}, {b.End}] have overlapping data_offsets");
        }
    }

    static JsonElement Property(JsonElement obj, string name, JsonValueKind kind, string where, string file)
    {
        if (!obj.TryGetProperty(name, out var value)) throw Error(file, $"{where} has no '{name}'");
        if (value.ValueKind != kind) throw Error(file, $"{where} has '{name}' of JSON {value.ValueKind}; expected {kind}");
        return value;
    }

    static long[] Integers(JsonElement array, string name, string where, string file) =>
        array.EnumerateArray().Select(e =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) && v >= 0
                ? v
                : throw Error(file, $"{where} has {name} {e.GetRawText()} in {array.GetRawText()}; entries must be non-negative integers"))
            .ToArray();

    static string Format(long[] values) => "[" + string.Join(", ", values) + "]";

    static ModelFormatException Error(string file, string problem, Exception? inner = null) =>
        inner == null ? new($"{file}: {problem}") : new($"{file}: {problem}", inner);
}
