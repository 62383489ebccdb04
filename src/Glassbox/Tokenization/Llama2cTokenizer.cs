using System.Buffers.Binary;
using System.Text;

namespace Glassbox.Tokenization;

/// <summary>
/// The tokenizer of llama2.c checkpoints, read from its <c>tokenizer.bin</c> (int32 max_token_length,
/// then per token float32 score, int32 byte length, the bytes). Encodes and decodes exactly as
/// llama2.c's <c>encode</c> and <c>decode</c> do, so that prompts get the ids the model was run on.
/// </summary>
/// <remarks>
/// Pieces are kept as Latin-1 strings (one char per byte) so that lookups and concatenations work
/// on the raw bytes, as llama2.c's C strings do, whatever the bytes are.
/// </remarks>
public sealed class Llama2cTokenizer : ITokenizer
{
    const int Bos = 1, Eos = 2, FirstByteId = 3;

    /// <summary>llama2.c's search for the best pair starts at this score, so pieces at or below it never merge.</summary>
    const float MergeFloor = -1e10f;

    readonly string[] bytePieces;
    readonly float[] scores;
    readonly Dictionary<string, int> idOfPiece;

    Llama2cTokenizer(string[] bytePieces, float[] scores, int maxTokenLength)
    {
        this.bytePieces = bytePieces;
        this.scores = scores;
        MaxTokenLength = maxTokenLength;
        idOfPiece = new Dictionary<string, int>(bytePieces.Length, StringComparer.Ordinal);
        for (int id = 0; id < bytePieces.Length; id++) idOfPiece.TryAdd(bytePieces[id], id);
    }

    /// <summary>The longest piece in bytes, as declared in the file header.</summary>
    public int MaxTokenLength { get; }

    public int VocabSize => bytePieces.Length;
    public int? BosId => Bos;
    public int? EosId => Eos;
    public bool AddsBos => true;

    /// <summary>Merge score of a token (higher merges first).</summary>
    public float Score(int id) => scores[CheckId(id)];

    /// <summary>
    /// Reads a llama2.c tokenizer. The file does not record its vocabulary size (llama2.c takes it
    /// from the checkpoint), so pass <paramref name="vocabSize"/> when it is known: then a file cut
    /// short at a token boundary is caught too.
    /// </summary>
    public static Llama2cTokenizer Load(string path, int? vocabSize = null)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read llama2.c tokenizer '{path}': {e.Message}", e);
        }
        ModelFormatException Bad(string problem) => new($"'{path}' is not a valid llama2.c tokenizer: {problem}.");

        if (data.Length < 4) throw Bad($"the file has {data.Length} bytes, fewer than its 4-byte header");
        int maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxTokenLength <= 0) throw Bad($"max_token_length is {maxTokenLength}");

        var pieces = new List<string>();
        var scores = new List<float>();
        int pos = 4;
        while (pos < data.Length && (vocabSize == null || pieces.Count < vocabSize))
        {
            int id = pieces.Count;
            if (data.Length - pos < 8) throw Bad($"truncated in the header of token {id} at byte {pos}");
            float score = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(pos));
            int length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 4));
            pos += 8;
            if (length < 0 || length > maxTokenLength)
                throw Bad($"token {id} claims {length} bytes, outside 0..max_token_length ({maxTokenLength})");
            if (data.Length - pos < length) throw Bad($"truncated in the bytes of token {id} at byte {pos}");
            pieces.Add(Encoding.Latin1.GetString(data, pos, length));
            scores.Add(score);
            pos += length;
        }

        if (vocabSize != null && pieces.Count < vocabSize)
            throw Bad($"it holds {pieces.Count} tokens where the model expects {vocabSize}");
        if (pieces.Count < FirstByteId + 256)
            throw Bad($"it holds {pieces.Count} tokens, too few for <unk>, <s>, </s> and the 256 byte tokens");
        for (int b = 0; b < 256; b++)
            if (pieces[FirstByteId + b] != $"<0x{b:X2}>")
                throw Bad($"token {FirstByteId + b} should be the byte token <0x{b:X2}>");
        return new Llama2cTokenizer(pieces.ToArray(), scores.ToArray(), maxTokenLength);
    }

    /// <summary>
    /// llama2.c's <c>encode</c>: BOS, a dummy-prefix space when the text is non-empty, one piece per
    /// UTF-8 character (its byte tokens when the character is not a piece), then score-ordered merges.
    /// </summary>
    public int[] Encode(string text, bool addBos = true)
    {
        var symbols = new List<string>();
        if (addBos) symbols.Add(bytePieces[Bos]);
        if (text.Length > 0) AddCharacter(symbols, " ");

        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        for (int start = 0; start < utf8.Length;)
        {
            // A character is a lead byte and its continuation bytes, at most four in all, as in llama2.c.
            int end = start + 1;
            while (end < utf8.Length && (utf8[end] & 0xC0) == 0x80 && end - start < 4) end++;
            AddCharacter(symbols, Encoding.Latin1.GetString(utf8, start, end - start));
            start = end;
        }

        ScoredPairMerge.Run(symbols, idOfPiece, scores, MergeFloor);
        return symbols.Select(s => idOfPiece[s]).ToArray();
    }

    void AddCharacter(List<string> symbols, string character)
    {
        if (idOfPiece.ContainsKey(character)) { symbols.Add(character); return; }
        foreach (char b in character) symbols.Add(bytePieces[FirstByteId + b]);
    }

    /// <summary>
    /// llama2.c's <c>decode</c> over a sequence: a piece after BOS drops one leading space and byte
    /// tokens become their byte. The bytes are gathered first and UTF-8 decoded once, so characters
    /// spelled by several byte tokens come out whole. BOS and EOS decode to nothing.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        int previous = -1;
        foreach (int id in ids)
        {
            CheckId(id);
            if (id is Bos or Eos) { previous = id; continue; }
            string piece = bytePieces[id];
            if (TokenDisplay.TryParseByteToken(piece, out byte value)) bytes.Add(value);
            else
            {
                int skip = previous == Bos && piece.StartsWith(' ') ? 1 : 0;
                for (int i = skip; i < piece.Length; i++) bytes.Add((byte)piece[i]);
            }
            previous = id;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string TokenText(int id) => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(bytePieces[CheckId(id)]));

    /// <summary>
    /// Pieces already hold real spaces. BOS and EOS are stored as <c>\n&lt;s&gt;\n</c> and
    /// <c>\n&lt;/s&gt;\n</c> (so that llama2.c prints them on their own line) and show without the newlines.
    /// </summary>
    public string Display(int id)
    {
        string piece = bytePieces[CheckId(id)];
        if (id is Bos or Eos) return piece.Trim();
        if (TokenDisplay.TryParseByteToken(piece, out byte value)) return TokenDisplay.RenderByte(value);
        return TokenDisplay.RenderBytes(Encoding.Latin1.GetBytes(piece));
    }

    public int? TokenToId(string piece) =>
        idOfPiece.TryGetValue(Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(piece)), out int id) ? id : null;

    int CheckId(int id) => (uint)id < (uint)bytePieces.Length
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {bytePieces.Length}.");
}
