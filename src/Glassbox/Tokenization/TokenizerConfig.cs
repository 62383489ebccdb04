using System.Text.Json;

namespace Glassbox.Tokenization;

/// <summary>
/// The few fields of a transformers <c>tokenizer_config.json</c> that decide BOS and EOS: which
/// tokens they are and whether BOS is added. All absent when the file is.
/// </summary>
internal sealed record TokenizerConfig(string? BosToken, string? EosToken, bool? AddBosToken)
{
    /// <summary>
    /// Names that mark BOS and EOS by convention. A tokenizer.json does not say which token plays
    /// which role, so without a config (or a post-processor that adds them) these stand in.
    /// </summary>
    static readonly string[] ConventionalBos = ["<s>", "<|begin_of_text|>", "<bos>", "[BOS]", "<|endoftext|>"];
    static readonly string[] ConventionalEos = ["</s>", "<|end_of_text|>", "<eos>", "[EOS]", "<|endoftext|>"];

    /// <summary>
    /// BOS, EOS and whether BOS is added, from the post-processor's leading and trailing special
    /// ids, this config and, failing both, the conventional names. <c>add_bos_token</c> overrides
    /// the post-processor, as transformers rebuilds the post-processor from it.
    /// </summary>
    public (int? Bos, int? Eos, bool AddsBos) Resolve(Func<string, int?> find, int? leading, int? trailing)
    {
        int? Find(string? name) => name == null ? null : find(name);
        int? bos = leading ?? Find(BosToken) ?? ConventionalBos.Select(Find).FirstOrDefault(id => id != null);
        int? eos = Find(EosToken) ?? trailing ?? ConventionalEos.Select(Find).FirstOrDefault(id => id != null);
        return (bos, eos, bos != null && (AddBosToken ?? leading != null));
    }

    public static TokenizerConfig Read(string path)
    {
        if (!File.Exists(path)) return new TokenizerConfig(null, null, null);
        using var document = HfTokenizerJson.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"'{path}' is not a JSON object.");

        // A special token is written either as its text or as an AddedToken object with "content".
        string? Token(string name) => root.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => null,
        } : null;

        bool? addBos = root.TryGetProperty("add_bos_token", out var add) && add.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? add.GetBoolean() : null;
        return new TokenizerConfig(Token("bos_token"), Token("eos_token"), addBos);
    }
}
