using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Glassbox.Tests.Reference;

/// <summary>Typed reads of a config dictionary whose values may be CLR numbers, JsonElements or JsonNodes.</summary>
public static class HfConfig
{
    public static bool Has(IReadOnlyDictionary<string, object?> config, string key) =>
        config.TryGetValue(key, out var v) && v != null && !(v is JsonElement { ValueKind: JsonValueKind.Null });

    public static double Double(IReadOnlyDictionary<string, object?> config, string key, double? fallback = null) =>
        Has(config, key) ? ToDouble(config[key]!) : fallback ?? throw Missing(key);

    public static int Int(IReadOnlyDictionary<string, object?> config, string key, int? fallback = null)
    {
        if (!Has(config, key)) return fallback ?? throw Missing(key);
        double d = ToDouble(config[key]!);
        if (d != Math.Floor(d)) throw new InvalidDataException($"config '{key}' = {d} is not an integer.");
        return checked((int)d);
    }

    public static bool Bool(IReadOnlyDictionary<string, object?> config, string key, bool? fallback = null)
    {
        if (!Has(config, key)) return fallback ?? throw Missing(key);
        return config[key] switch
        {
            bool b => b,
            JsonElement e => e.GetBoolean(),
            JsonNode n => n.GetValue<bool>(),
            var other => throw new InvalidDataException($"config '{key}' = {other} is not a boolean."),
        };
    }

    public static string String(IReadOnlyDictionary<string, object?> config, string key, string? fallback = null)
    {
        if (!Has(config, key)) return fallback ?? throw Missing(key);
        return config[key] switch
        {
            string s => s,
            JsonElement e => e.GetString()!,
            JsonNode n => n.GetValue<string>(),
            var other => throw new InvalidDataException($"config '{key}' = {other} is not a string."),
        };
    }

    /// <summary>
    /// A rotary parameter from transformers v5's nested <c>rope_parameters</c> object if the config has one,
    /// else from the top-level key <paramref name="legacyKey"/> (transformers 4.x: rope_theta, rotary_pct, ...).
    /// </summary>
    public static double RopeDouble(IReadOnlyDictionary<string, object?> config, string key, string legacyKey, double fallback)
    {
        var nested = Nested(config, "rope_parameters");
        if (nested != null && Has(nested, key)) return Double(nested, key);
        return Double(config, legacyKey, fallback);
    }

    /// <summary>Throws unless RoPE is unscaled: no rope_scaling, and rope_parameters' rope_type (if any) is "default".</summary>
    public static void RequireDefaultRope(IReadOnlyDictionary<string, object?> config)
    {
        if (Has(config, "rope_scaling")) throw new NotSupportedException("The reference implements unscaled RoPE only (rope_scaling is set).");
        var nested = Nested(config, "rope_parameters");
        if (nested != null && String(nested, "rope_type", "default") != "default")
            throw new NotSupportedException($"The reference implements default RoPE only, not '{String(nested, "rope_type")}'.");
    }

    /// <summary>A nested object value as a dictionary, or null if absent.</summary>
    public static IReadOnlyDictionary<string, object?>? Nested(IReadOnlyDictionary<string, object?> config, string key)
    {
        if (!Has(config, key)) return null;
        return config[key] switch
        {
            IReadOnlyDictionary<string, object?> d => d,
            JsonObject o => FromJson(o),
            JsonElement { ValueKind: JsonValueKind.Object } e => e.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone()),
            var other => throw new InvalidDataException($"config '{key}' = {other} is not an object."),
        };
    }

    /// <summary>A JsonObject (as a library test may hold it) as a plain dictionary.</summary>
    public static Dictionary<string, object?> FromJson(JsonObject json) =>
        json.ToDictionary(p => p.Key, p => (object?)p.Value?.DeepClone());

    static double ToDouble(object value) => value switch
    {
        JsonElement e => e.GetDouble(),
        JsonNode n => double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture),
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new InvalidDataException($"config value {value} is not a number."),
    };

    static KeyNotFoundException Missing(string key) => new($"config has no '{key}'.");
}
