using System.Text;
using System.Text.Json;
using Tokenizers.DotNet;

namespace Glassbox.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c>, run by the HF tokenizers library itself (through
/// Tokenizers.DotNet) so that every model type, normaliser and pre-tokeniser behaves exactly as in
/// Python. The vocabulary is read from the JSON, since the native binding exposes only encode and decode.
/// </summary>
/// <remarks>
/// BOS follows the post-processor (a Llama template prepends <c>&lt;s&gt;</c>; GPT-2's ByteLevel
/// processor adds nothing), overridden by <c>add_bos_token</c> in a <c>tokenizer_config.json</c>
/// beside the file, as transformers does (see <see cref="TokenizerConfig.Resolve"/>).
/// </remarks>
public sealed class HfTokenizer : ITokenizer, IDisposable
{
    readonly Tokenizer native;
    readonly string?[] pieces;
    readonly Dictionary<string, int> idOfPiece;
    readonly HashSet<int> addedIds;
    /// <summary>Pieces are spelled in GPT-2's byte-level alphabet (Ġ for a space).</summary>
    readonly bool byteLevel;
    /// <summary>The id the post-processor prepends, if any: the native encoder always adds it.</summary>
    readonly int? nativeLeadingId;

    HfTokenizer(Tokenizer native, string?[] pieces, Dictionary<string, int> idOfPiece, HashSet<int> addedIds, bool byteLevel,
        int? nativeLeadingId, int? bosId, int? eosId, bool addsBos)
    {
        this.native = native;
        this.pieces = pieces;
        this.idOfPiece = idOfPiece;
        this.addedIds = addedIds;
        this.byteLevel = byteLevel;
        this.nativeLeadingId = nativeLeadingId;
        BosId = bosId;
        EosId = eosId;
        AddsBos = addsBos;
    }

    public int VocabSize => pieces.Length;
    public int? BosId { get; }
    public int? EosId { get; }
    public bool AddsBos { get; }

    /// <summary>Loads <c>tokenizer.json</c>, given as the file or the directory that holds it.</summary>
    public static HfTokenizer Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file)) throw new ModelFormatException($"Tokenizer file '{file}' does not exist.");
        using var document = HfTokenizerJson.Parse(file);
        var root = document.RootElement;
        var model = HfTokenizerJson.Model(root, file);
        var vocab = HfTokenizerJson.Vocab(model, file);
        var added = HfTokenizerJson.AddedTokens(root, file);
        foreach (var token in added) vocab[token.Content] = token.Id;

        int size = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        var pieces = new string?[size];
        foreach (var (piece, id) in vocab) pieces[id] ??= piece;
        var idOfPiece = new Dictionary<string, int>(vocab, StringComparer.Ordinal);

        bool byteLevel = root.TryGetProperty("pre_tokenizer", out var pre) && HfTokenizerJson.HasComponent(pre, "ByteLevel")
            || root.TryGetProperty("decoder", out var decoder) && HfTokenizerJson.HasComponent(decoder, "ByteLevel");
        int? leading, trailing;
        try
        {
            (leading, trailing) = root.TryGetProperty("post_processor", out var processor)
                ? PostProcessorSpecials(processor, idOfPiece) : (null, null);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException or FormatException)
        {
            throw HfTokenizerJson.Bad(file, $"its post_processor is malformed ({e.Message})");
        }
        var config = TokenizerConfig.Read(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "tokenizer_config.json"));
        var (bos, eos, addsBos) = config.Resolve(name => idOfPiece.TryGetValue(name, out int id) ? id : null, leading, trailing);

        Tokenizer native;
        try { native = new Tokenizer(file); }
        catch (TokenizerException e) { throw HfTokenizerJson.Bad(file, e.Message); }
        return new HfTokenizer(native, pieces, idOfPiece, added.Select(t => t.Id).ToHashSet(), byteLevel, leading, bos, eos, addsBos);
    }

    /// <summary>The special ids a post-processor puts before and after a single sequence.</summary>
    static (int? Leading, int? Trailing) PostProcessorSpecials(JsonElement processor, Dictionary<string, int> idOfPiece)
    {
        if (processor.ValueKind != JsonValueKind.Object) return (null, null);
        string? type = processor.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "TemplateProcessing" when processor.TryGetProperty("single", out var single) && single.GetArrayLength() > 0:
                int? SpecialId(JsonElement item)
                {
                    if (!item.TryGetProperty("SpecialToken", out var special)) return null;
                    string name = special.GetProperty("id").GetString()!;
                    if (processor.TryGetProperty("special_tokens", out var table) && table.TryGetProperty(name, out var entry)
                        && entry.GetProperty("ids").GetArrayLength() > 0)
                        return entry.GetProperty("ids")[0].GetInt32();
                    return idOfPiece.TryGetValue(name, out int id) ? id : null;
                }
                int last = single.GetArrayLength() - 1;
                return (SpecialId(single[0]), last > 0 ? SpecialId(single[last]) : null);
            case "BertProcessing" or "RobertaProcessing":
                return (processor.GetProperty("cls")[1].GetInt32(), processor.GetProperty("sep")[1].GetInt32());
            case "Sequence":
                int? leading = null, trailing = null;
                foreach (var inner in processor.GetProperty("processors").EnumerateArray())
                {
                    var (l, r) = PostProcessorSpecials(inner, idOfPiece);
                    leading ??= l;
                    trailing ??= r;
                }
                return (leading, trailing);
            default:
                return (null, null);
        }
    }

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = native.Encode(text).Select(id => (int)id).ToList();
        bool wantBos = addBos && AddsBos;
        if (nativeLeadingId != null && !wantBos && ids.Count > 0 && ids[0] == nativeLeadingId) ids.RemoveAt(0);
        else if (nativeLeadingId == null && wantBos) ids.Insert(0, BosId!.Value);
        return ids.ToArray();
    }

    /// <summary>The library's decoder with special tokens skipped.</summary>
    public string Decode(IEnumerable<int> ids) => native.Decode(ids.Select(id => (uint)CheckId(id)).ToArray());

    /// <summary>The piece; an empty string for an id the file leaves unassigned.</summary>
    public string TokenText(int id) => pieces[CheckId(id)] ?? "";

    public string Display(int id)
    {
        string piece = TokenText(id);
        if (addedIds.Contains(id)) return TokenDisplay.RenderBytes(Encoding.UTF8.GetBytes(piece));
        if (byteLevel && ByteLevelAlphabet.TryUnspell(piece) is { } bytes) return TokenDisplay.RenderBytes(bytes);
        if (!byteLevel && TokenDisplay.TryParseByteToken(piece, out byte value)) return TokenDisplay.RenderByte(value);
        return TokenDisplay.RenderBytes(Encoding.UTF8.GetBytes(piece.Replace(TokenDisplay.Metaspace, ' ')));
    }

    public int? TokenToId(string piece) => idOfPiece.TryGetValue(piece, out int id) ? id : null;

    public void Dispose() => native.Dispose();

    int CheckId(int id) => (uint)id < (uint)pieces.Length
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {pieces.Length}.");
}
