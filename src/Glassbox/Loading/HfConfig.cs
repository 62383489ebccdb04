using System.Text.Json;

namespace Glassbox.Loading;

/// <summary>
/// A Hugging Face <c>config.json</c>, read with errors that name the file and the missing or
/// malformed field, so that a bad config never becomes a silently wrong model.
/// </summary>
public sealed class HfConfig
{
    readonly JsonElement root;

    HfConfig(string path, JsonElement root)
    {
        Path = path;
        this.root = root;
    }

    public string Path { get; }

    public static HfConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: no config.json (a Hugging Face model directory needs one).");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{path}: config.json is not a JSON object.");
            return new HfConfig(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: config.json is not valid JSON ({e.Message}).", e);
        }
    }

    public string ModelType => String("model_type");

    public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The first of <paramref name="keys"/> that is present; all absent is an error naming them, as is a non-integer.</summary>
    public int Int(params string[] keys)
    {
        double v = Number(keys);
        return v == Math.Floor(v) && Math.Abs(v) <= int.MaxValue ? (int)v : throw Bad(keys.First(Has), "an integer");
    }

    public int Int(string key, int fallback) => Has(key) ? Int(key) : fallback;

    public double Double(params string[] keys) => Number(keys);

    public double Double(string key, double fallback) => Has(key) ? Double(key) : fallback;

    public bool Bool(string key, bool fallback)
    {
        if (!Has(key)) return fallback;
        var v = root.GetProperty(key);
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(key, "a boolean"),
        };
    }

    public string String(string key)
    {
        var v = Get(key);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad(key, "a string");
    }

    public string String(string key, string fallback) => Has(key) ? String(key) : fallback;

    public int? OptionalInt(string key) => Has(key) ? Int(key) : null;

    /// <summary>A special token id; null when absent or not a single number (Llama 3 lists several eos ids).</summary>
    public int? TokenId(string key) => Has(key) && root.GetProperty(key).ValueKind == JsonValueKind.Number ? Int(key) : null;

    public double? OptionalDouble(string key) => Has(key) ? Double(key) : null;

    /// <summary>
    /// A field that may be null: null when it is null, <paramref name="absent"/> when the key is missing (Transformers'
    /// class default, which is what it would run with; e.g. Gemma 2's soft-caps are 50 and 30 unless the config says null).
    /// </summary>
    public double? NullableDouble(string key, double? absent) => !root.TryGetProperty(key, out _) ? absent : OptionalDouble(key);

    public int? NullableInt(string key, int? absent) => !root.TryGetProperty(key, out _) ? absent : Has(key) ? Int(key) : null;

    /// <summary>A nested object (e.g. <c>rope_scaling</c>) read with the same errors, which name it; null when absent or null.</summary>
    public HfConfig? Section(string key)
    {
        if (!Has(key)) return null;
        var v = root.GetProperty(key);
        return v.ValueKind == JsonValueKind.Object ? new HfConfig($"{Path} ({key})", v) : throw Bad(key, "an object");
    }

    /// <summary>A list of strings (e.g. <c>layer_types</c>); null when absent.</summary>
    public IReadOnlyList<string>? Strings(string key) => List(key, "a list of strings", JsonValueKind.String, e => e.GetString()!);

    /// <summary>A list of integers (e.g. <c>mlp_only_layers</c>); null when absent.</summary>
    public IReadOnlyList<int>? Ints(string key) => List(key, "a list of integers", JsonValueKind.Number, e => e.TryGetInt32(out int i) ? i : throw Bad(key, "a list of integers"));

    IReadOnlyList<T>? List<T>(string key, string what, JsonValueKind kind, Func<JsonElement, T> read)
    {
        if (!Has(key)) return null;
        var v = root.GetProperty(key);
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != kind)) throw Bad(key, what);
        return v.EnumerateArray().Select(read).ToArray();
    }

    double Number(string[] keys)
    {
        foreach (var key in keys)
        {
            if (!Has(key)) continue;
            var v = root.GetProperty(key);
            if (v.ValueKind != JsonValueKind.Number) throw Bad(key, "a number");
            return v.GetDouble();
        }
        throw Missing(keys);
    }

    JsonElement Get(string key) => Has(key) ? root.GetProperty(key) : throw Missing(new[] { key });

    ModelFormatException Missing(string[] keys) => new(
        $"{Path}: config.json is missing the required field {string.Join(" (or ", keys.Select(k => $"'{k}'"))}{new string(')', keys.Length - 1)}" +
        (Has("model_type") && keys[0] != "model_type" ? $" for model_type '{root.GetProperty("model_type")}'." : "."));

    ModelFormatException Bad(string key, string what) => new($"{Path}: config.json field '{key}' should be {what}, got {root.GetProperty(key).GetRawText()}.");
}
