using System.Text.Json;

namespace Glassbox.Tokenization;

/// <summary>Reading the parts of a Hugging Face <c>tokenizer.json</c> that both HF-format tokenizers need.</summary>
internal static class HfTokenizerJson
{
    /// <summary>A token listed under <c>added_tokens</c>; special ones are skipped when decoding.</summary>
    public readonly record struct AddedToken(int Id, string Content, bool Special);

    public static ModelFormatException Bad(string path, string problem) =>
        new($"'{path}' is not a valid Hugging Face tokenizer.json: {problem}.");

    public static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e) { throw new ModelFormatException($"'{path}' is not valid JSON: {e.Message}", e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read tokenizer '{path}': {e.Message}", e);
        }
    }

    public static JsonElement Model(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Bad(path, "it has no \"model\" object");
        return model;
    }

    /// <summary>The model type (<c>BPE</c>, <c>WordLevel</c>, <c>WordPiece</c>, <c>Unigram</c>); old BPE files omit it.</summary>
    public static string ModelType(JsonElement model) =>
        model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : "BPE";

    public static List<AddedToken> AddedTokens(JsonElement root, string path)
    {
        var result = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind == JsonValueKind.Null) return result;
        if (list.ValueKind != JsonValueKind.Array) throw Bad(path, "\"added_tokens\" is not an array");
        foreach (var token in list.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Object
                || !token.TryGetProperty("id", out var id) || !id.TryGetInt32(out int value)
                || !token.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw Bad(path, "an added token lacks an integer \"id\" or a string \"content\"");
            bool special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            result.Add(new AddedToken(value, content.GetString()!, special));
        }
        return result;
    }

    /// <summary>
    /// The model's piece-to-id map: an object for BPE, WordPiece and WordLevel, a list of
    /// [piece, score] pairs (ids in order) for Unigram.
    /// </summary>
    public static Dictionary<string, int> Vocab(JsonElement model, string path)
    {
        if (!model.TryGetProperty("vocab", out var vocab)) throw Bad(path, "the model has no \"vocab\"");
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        if (vocab.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in vocab.EnumerateObject())
            {
                if (!entry.Value.TryGetInt32(out int id) || id < 0) throw Bad(path, $"vocab entry \"{entry.Name}\" has no valid id");
                result[entry.Name] = id;
            }
        }
        else if (vocab.ValueKind == JsonValueKind.Array)
        {
            int id = 0;
            foreach (var entry in vocab.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() < 1 || entry[0].ValueKind != JsonValueKind.String)
                    throw Bad(path, $"unigram vocab entry {id} is not a [piece, score] pair");
                result.TryAdd(entry[0].GetString()!, id++);
            }
        }
        else throw Bad(path, "the model's \"vocab\" is neither an object nor a list");
        return result;
    }

    /// <summary>Whether any component in a (possibly nested Sequence) JSON subtree has the given type.</summary>
    public static bool HasComponent(JsonElement element, string type) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Any(p =>
            (p.Name == "type" && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() == type) || HasComponent(p.Value, type)),
        JsonValueKind.Array => element.EnumerateArray().Any(e => HasComponent(e, type)),
        _ => false,
    };
}
