using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Glassbox.Tokenization;

/// <summary>
/// A word-level vocabulary (one id per whole word, an unknown token for the rest) in pure C#, for
/// the small models the project trains itself. It saves to and loads from a Hugging Face
/// <c>tokenizer.json</c> (model "WordLevel") that the HF tokenizers library reads to the same ids,
/// so a committed tokenizer works in Python too.
/// </summary>
/// <remarks>
/// Special tokens (unknown, BOS, EOS) take the first ids, are matched whole in the text before
/// words are split, as HF matches added tokens, and are left out by <see cref="Decode"/>, which
/// joins words with single spaces as HF's default decoder does.
/// </remarks>
public sealed partial class WordLevelTokenizer : ITokenizer
{
    /// <summary>
    /// HF's Whitespace pre-tokenizer, <c>\w+|[^\w\s]+</c>, with Rust's Unicode <c>\w</c> (letters,
    /// marks, decimal digits, connector punctuation, joiners) spelled out, since .NET's <c>\w</c> differs.
    /// </summary>
    [GeneratedRegex(@"[\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\u200C\u200D]+|[^\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\u200C\u200D\s]+")]
    private static partial Regex WordsAndPunctuation();

    static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly string[] words;
    readonly Dictionary<string, int> idOfWord = new(StringComparer.Ordinal);
    readonly HashSet<int> specialIds;
    /// <summary>Special tokens, longest first, so the longest one wins where several match.</summary>
    readonly string[] specialsLongestFirst;
    readonly int unkId;

    WordLevelTokenizer(IReadOnlyList<string> words, IEnumerable<int> specialIds, int unkId, int? bosId, int? eosId, bool addsBos,
        WordLevelPreTokenizer preTokenizer)
    {
        this.words = words.ToArray();
        for (int id = 0; id < this.words.Length; id++) idOfWord.TryAdd(this.words[id], id);
        this.specialIds = specialIds.ToHashSet();
        specialsLongestFirst = this.specialIds.Select(id => this.words[id]).OrderByDescending(w => w.Length).ToArray();
        this.unkId = unkId;
        BosId = bosId;
        EosId = eosId;
        AddsBos = addsBos;
        PreTokenizer = preTokenizer;
    }

    /// <summary>
    /// A vocabulary of the given words, after the special tokens (unknown, then BOS and EOS when
    /// given), which take ids 0, 1, 2. Duplicates keep their first id. With a BOS, encodings start with it.
    /// </summary>
    public WordLevelTokenizer(IEnumerable<string> words, string unkToken = "[UNK]", string? bosToken = null, string? eosToken = null,
        WordLevelPreTokenizer preTokenizer = WordLevelPreTokenizer.WhitespaceSplit)
        : this(Vocabulary(words, unkToken, bosToken, eosToken, out int? bos, out int? eos), Enumerable.Range(0, 1 + (bos != null ? 1 : 0) + (eos != null ? 1 : 0)),
            0, bos, eos, bos != null, preTokenizer)
    {
    }

    /// <summary>
    /// A vocabulary given whole, in id order, for layouts the constructor does not make (a padding
    /// token, specials in another order). <paramref name="specialTokens"/>, which must include
    /// <paramref name="unkToken"/> and the BOS and EOS when given, are matched whole and left out by
    /// <see cref="Decode"/>. With a BOS, encodings start with it.
    /// </summary>
    public static WordLevelTokenizer FromVocabulary(IReadOnlyList<string> vocabulary, IEnumerable<string> specialTokens, string unkToken,
        string? bosToken = null, string? eosToken = null, WordLevelPreTokenizer preTokenizer = WordLevelPreTokenizer.WhitespaceSplit)
    {
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in vocabulary)
        {
            if (word.Length == 0 || word.Any(char.IsWhiteSpace))
                throw new ArgumentException($"Word '{word}' is empty or contains whitespace, so no text could produce it.", nameof(vocabulary));
            if (!idOf.TryAdd(word, idOf.Count)) throw new ArgumentException($"Word '{word}' appears twice.", nameof(vocabulary));
        }
        var specials = specialTokens.ToHashSet(StringComparer.Ordinal);
        foreach (string? role in new[] { unkToken, bosToken, eosToken })
            if (role != null && !specials.Contains(role)) throw new ArgumentException($"'{role}' is not among the special tokens.", nameof(specialTokens));
        int Id(string token) => idOf.TryGetValue(token, out int id) ? id : throw new ArgumentException($"Special token '{token}' is not in the vocabulary.", nameof(specialTokens));
        return new WordLevelTokenizer(vocabulary, specials.Select(Id).ToList(), Id(unkToken), bosToken == null ? null : Id(bosToken),
            eosToken == null ? null : Id(eosToken), bosToken != null, preTokenizer);
    }

    static List<string> Vocabulary(IEnumerable<string> words, string unkToken, string? bosToken, string? eosToken, out int? bos, out int? eos)
    {
        var specials = new[] { unkToken, bosToken, eosToken }.OfType<string>().ToList();
        if (specials.Any(string.IsNullOrEmpty) || specials.Distinct().Count() != specials.Count)
            throw new ArgumentException("Special tokens must be distinct and non-empty.");
        bos = bosToken == null ? null : specials.IndexOf(bosToken);
        eos = eosToken == null ? null : specials.IndexOf(eosToken);
        var vocabulary = new List<string>(specials);
        var seen = specials.ToHashSet(StringComparer.Ordinal);
        foreach (string word in words)
        {
            if (word.Length == 0 || word.Any(char.IsWhiteSpace))
                throw new ArgumentException($"Word '{word}' is empty or contains whitespace, so no text could produce it.", nameof(words));
            if (seen.Add(word)) vocabulary.Add(word);
        }
        return vocabulary;
    }

    /// <summary>
    /// Builds a vocabulary of the most frequent words in <paramref name="texts"/> (ties in ordinal
    /// order, so the result is deterministic), at most <paramref name="maxVocabSize"/> ids including
    /// the special tokens, keeping only words seen at least <paramref name="minFrequency"/> times.
    /// </summary>
    public static WordLevelTokenizer Train(IEnumerable<string> texts, int maxVocabSize, string unkToken = "[UNK]", string? bosToken = null,
        string? eosToken = null, WordLevelPreTokenizer preTokenizer = WordLevelPreTokenizer.WhitespaceSplit, int minFrequency = 1)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string text in texts)
            foreach (string word in Split(text, preTokenizer))
                counts[word] = counts.GetValueOrDefault(word) + 1;
        int specials = new[] { unkToken, bosToken, eosToken }.Count(s => s != null);
        var chosen = counts.Where(kv => kv.Value >= minFrequency && kv.Key != unkToken && kv.Key != bosToken && kv.Key != eosToken)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(Math.Max(0, maxVocabSize - specials)).Select(kv => kv.Key);
        return new WordLevelTokenizer(chosen, unkToken, bosToken, eosToken, preTokenizer);
    }

    public WordLevelPreTokenizer PreTokenizer { get; }
    public int VocabSize => words.Length;
    public int? BosId { get; }
    public int? EosId { get; }
    public bool AddsBos { get; }

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = new List<int>();
        if (addBos && AddsBos) ids.Add(BosId!.Value);
        int segmentStart = 0;
        for (int i = 0; i < text.Length;)
        {
            string? special = specialsLongestFirst.FirstOrDefault(s => text.AsSpan(i).StartsWith(s, StringComparison.Ordinal));
            if (special == null) { i++; continue; }
            AddWords(text[segmentStart..i], ids);
            ids.Add(idOfWord[special]);
            i += special.Length;
            segmentStart = i;
        }
        AddWords(text[segmentStart..], ids);
        return ids.ToArray();
    }

    void AddWords(string segment, List<int> ids)
    {
        foreach (string word in Split(segment, PreTokenizer)) ids.Add(idOfWord.GetValueOrDefault(word, unkId));
    }

    static IEnumerable<string> Split(string text, WordLevelPreTokenizer preTokenizer) => preTokenizer == WordLevelPreTokenizer.Whitespace
        ? WordsAndPunctuation().Matches(text).Select(m => m.Value)
        : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    public string Decode(IEnumerable<int> ids) =>
        string.Join(' ', ids.Select(CheckId).Where(id => !specialIds.Contains(id)).Select(id => words[id]));

    public string TokenText(int id) => words[CheckId(id)];

    public string Display(int id) => TokenDisplay.RenderBytes(Encoding.UTF8.GetBytes(words[CheckId(id)]));

    public int? TokenToId(string piece) => idOfWord.TryGetValue(piece, out int id) ? id : null;

    /// <summary>
    /// Writes a Hugging Face tokenizer.json: WordLevel model, the pre-tokenizer, special tokens as
    /// added tokens, and a template post-processor that prepends BOS when this tokenizer does.
    /// </summary>
    public void Save(string path)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, WriterOptions);
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        json.WriteStartArray("added_tokens");
        foreach (int id in specialIds.Order())
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("content", words[id]);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNull("normalizer");
        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", PreTokenizer.ToString());
        json.WriteEndObject();
        if (AddsBos) WriteBosTemplate(json, words[BosId!.Value], BosId.Value);
        else json.WriteNull("post_processor");
        json.WriteNull("decoder");
        json.WriteStartObject("model");
        json.WriteString("type", "WordLevel");
        json.WriteStartObject("vocab");
        for (int id = 0; id < words.Length; id++) json.WriteNumber(words[id], id);
        json.WriteEndObject();
        json.WriteString("unk_token", words[unkId]);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    static void WriteBosTemplate(Utf8JsonWriter json, string bos, int bosId)
    {
        void Special() { json.WriteStartObject(); json.WriteStartObject("SpecialToken"); json.WriteString("id", bos); json.WriteNumber("type_id", 0); json.WriteEndObject(); json.WriteEndObject(); }
        void Sequence(string name, int typeId) { json.WriteStartObject(); json.WriteStartObject("Sequence"); json.WriteString("id", name); json.WriteNumber("type_id", typeId); json.WriteEndObject(); json.WriteEndObject(); }

        json.WriteStartObject("post_processor");
        json.WriteString("type", "TemplateProcessing");
        json.WriteStartArray("single"); Special(); Sequence("A", 0); json.WriteEndArray();
        json.WriteStartArray("pair"); Special(); Sequence("A", 0); Sequence("B", 1); json.WriteEndArray();
        json.WriteStartObject("special_tokens");
        json.WriteStartObject(bos);
        json.WriteString("id", bos);
        json.WriteStartArray("ids"); json.WriteNumberValue(bosId); json.WriteEndArray();
        json.WriteStartArray("tokens"); json.WriteStringValue(bos); json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Loads a WordLevel tokenizer.json of the shape <see cref="Save"/> writes (see <see cref="Supports"/>).</summary>
    public static WordLevelTokenizer Load(string path)
    {
        using var document = HfTokenizerJson.Parse(path);
        if (!Supports(document.RootElement))
            throw HfTokenizerJson.Bad(path, "it is not a WordLevel tokenizer of the plain kind this reader handles "
                + "(no normalizer, decoder, truncation or padding; WhitespaceSplit or Whitespace; at most a BOS template); load it with HfTokenizer");
        return FromJson(document.RootElement, path);
    }

    /// <summary>
    /// Whether a tokenizer.json is a WordLevel model this class reproduces exactly: no normalizer,
    /// decoder, truncation or padding, a WhitespaceSplit or Whitespace pre-tokenizer, only special
    /// added tokens, and no post-processor or a template that at most prepends one special token.
    /// Anything else is left to <see cref="HfTokenizer"/>.
    /// </summary>
    public static bool Supports(JsonElement root)
    {
        static bool IsNull(JsonElement root, string name) => !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object
            || HfTokenizerJson.ModelType(model) != "WordLevel") return false;
        if (!IsNull(root, "normalizer") || !IsNull(root, "decoder") || !IsNull(root, "truncation") || !IsNull(root, "padding")) return false;
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object
            || !pre.TryGetProperty("type", out var preType) || !Enum.TryParse<WordLevelPreTokenizer>(preType.GetString(), out _)) return false;
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array
            && added.EnumerateArray().Any(t => !t.TryGetProperty("special", out var s) || s.ValueKind != JsonValueKind.True)) return false;
        if (IsNull(root, "post_processor")) return true;
        var processor = root.GetProperty("post_processor");
        if (!processor.TryGetProperty("type", out var type) || type.GetString() != "TemplateProcessing"
            || !processor.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array) return false;
        var items = single.EnumerateArray().ToList();
        return items.Count switch
        {
            1 => items[0].TryGetProperty("Sequence", out _),
            2 => items[0].TryGetProperty("SpecialToken", out _) && items[1].TryGetProperty("Sequence", out _),
            _ => false,
        };
    }

    /// <summary>Builds the tokenizer from a tokenizer.json that <see cref="Supports"/> accepted.</summary>
    internal static WordLevelTokenizer FromJson(JsonElement root, string path)
    {
        var model = HfTokenizerJson.Model(root, path);
        var vocab = HfTokenizerJson.Vocab(model, path);
        var added = HfTokenizerJson.AddedTokens(root, path);
        foreach (var token in added)
            if (!vocab.TryGetValue(token.Content, out int id) || id != token.Id)
                throw HfTokenizerJson.Bad(path, $"added token \"{token.Content}\" is not in the vocabulary with id {token.Id}");

        var words = new string?[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (word, id) in vocab) words[id] = word;
        if (words.Any(w => w == null)) throw HfTokenizerJson.Bad(path, "the WordLevel vocabulary's ids are not contiguous from 0");

        if (!model.TryGetProperty("unk_token", out var unk) || unk.ValueKind != JsonValueKind.String || !vocab.TryGetValue(unk.GetString()!, out int unkId))
            throw HfTokenizerJson.Bad(path, "the WordLevel model's \"unk_token\" is missing or not in its vocabulary");

        int? leading = null;
        if (root.TryGetProperty("post_processor", out var processor) && processor.ValueKind == JsonValueKind.Object
            && processor.GetProperty("single")[0].TryGetProperty("SpecialToken", out var special))
        {
            string name = special.GetProperty("id").GetString()!;
            leading = vocab.TryGetValue(name, out int id) ? id : throw HfTokenizerJson.Bad(path, $"the post-processor's token \"{name}\" is not in the vocabulary");
        }
        var config = TokenizerConfig.Read(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json"));
        var (bos, eos, addsBos) = config.Resolve(name => vocab.TryGetValue(name, out int id) ? id : null, leading, null);
        var preTokenizer = Enum.Parse<WordLevelPreTokenizer>(root.GetProperty("pre_tokenizer").GetProperty("type").GetString()!);
        return new WordLevelTokenizer(words!, added.Select(t => t.Id), unkId, bos, eos, addsBos, preTokenizer);
    }

    int CheckId(int id) => (uint)id < (uint)words.Length
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {words.Length}.");
}
