using System.Text.Json;

namespace Glassbox.Loading;

/// <summary>
/// Reads the <c>weight_map</c> of a sharded checkpoint's <c>model.safetensors.index.json</c> (tensor name →
/// shard file). Shard names must be plain file names, so an index cannot reach outside its directory.
/// </summary>
internal static class SafeTensorsIndex
{
    public const string FileName = "model.safetensors.index.json";

    public static Dictionary<string, string> ReadWeightMap(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new ModelFormatException($"{FileName}: not valid JSON ({e.Message})", e); }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{FileName}: expected a JSON object with a \"weight_map\" object");

            var weights = new Dictionary<string, string>();
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                if (shard.Length == 0 || System.IO.Path.GetFileName(shard) != shard || shard is "." or "..")
                    throw new ModelFormatException($"{FileName}: weight_map entry '{entry.Name}' is {entry.Value.GetRawText()}; expected a shard file name in the same directory");
                if (!weights.TryAdd(entry.Name, shard))
                    throw new ModelFormatException($"{FileName}: weight_map names '{entry.Name}' twice");
            }
            return weights;
        }
    }
}
