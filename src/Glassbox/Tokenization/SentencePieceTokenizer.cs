using System.Text;

namespace Glassbox.Tokenization;

/// <summary>
/// A SentencePiece <c>.model</c> file (a protobuf ModelProto), the tokenizer format of Llama,
/// Mistral, T5 and many small models. BPE models merge by piece score as SentencePiece does;
/// unigram models take the highest-scoring (Viterbi) segmentation. Both fall back to byte pieces
/// for characters outside the vocabulary when the model was trained with byte fallback.
/// </summary>
/// <remarks>
/// The normaliser's whitespace options (dummy prefix, removal of extra spaces, ▁ for space) are
/// applied; a precompiled character map (NFKC-style rules of non-identity normalisers) is not,
/// so such models may tokenise unusual Unicode differently from SentencePiece itself.
/// BOS is prepended by default whenever the model has one, as Llama-family models expect.
/// </remarks>
public sealed class SentencePieceTokenizer : ITokenizer
{
    /// <summary>SentencePiece's penalty below the lowest piece score for an unknown character in unigram models.</summary>
    const float UnknownPenalty = 10f;

    readonly string[] pieces;
    readonly float[] scores;
    readonly SentencePieceType[] types;
    readonly Dictionary<string, int> idOfPiece = new(StringComparer.Ordinal);
    /// <summary>Pieces that segmentation may produce: normal and user-defined ones.</summary>
    readonly Dictionary<string, int> segmentPieces = new(StringComparer.Ordinal);
    /// <summary>User-defined pieces, longest first, matched whole before BPE merging.</summary>
    readonly string[] userDefinedPieces;
    readonly int[] byteIds;
    readonly Options options;
    /// <summary>Unigram lattice scores per id, the longest piece and the score of an unknown character.</summary>
    readonly float[] unigramScores;
    readonly int maxPieceLength;
    readonly float unknownScore;

    /// <summary>The fields of TrainerSpec and NormalizerSpec that affect encoding and decoding, with SentencePiece's defaults.</summary>
    sealed class Options
    {
        public SentencePieceModelType ModelType = SentencePieceModelType.Unigram;
        public bool ByteFallback;
        public bool TreatWhitespaceAsSuffix;
        public int UnkId = 0, BosId = 1, EosId = 2;
        public string UnkSurface = " \u2047 ";
        public bool AddDummyPrefix = true, RemoveExtraWhitespaces = true, EscapeWhitespaces = true;
    }

    SentencePieceTokenizer(List<(string Piece, float Score, SentencePieceType Type)> entries, Options options)
    {
        this.options = options;
        pieces = entries.Select(e => e.Piece).ToArray();
        scores = entries.Select(e => e.Score).ToArray();
        types = entries.Select(e => e.Type).ToArray();
        byteIds = new int[256];
        Array.Fill(byteIds, -1);
        for (int id = 0; id < pieces.Length; id++)
        {
            idOfPiece.TryAdd(pieces[id], id);
            if (types[id] is SentencePieceType.Normal or SentencePieceType.UserDefined) segmentPieces.TryAdd(pieces[id], id);
            if (types[id] == SentencePieceType.Byte && TokenDisplay.TryParseByteToken(pieces[id], out byte b)) byteIds[b] = id;
        }
        userDefinedPieces = Enumerable.Range(0, pieces.Length)
            .Where(id => types[id] == SentencePieceType.UserDefined && pieces[id].Length > 0)
            .Select(id => pieces[id]).OrderByDescending(p => p.Length).ToArray();

        var normalScores = Enumerable.Range(0, pieces.Length).Where(id => types[id] == SentencePieceType.Normal).Select(id => scores[id]).DefaultIfEmpty(0f).ToArray();
        unknownScore = normalScores.Min() - UnknownPenalty;
        // As in SentencePiece, a user-defined piece outscores any split of the same text, so it is always chosen.
        unigramScores = Enumerable.Range(0, pieces.Length)
            .Select(id => types[id] == SentencePieceType.UserDefined ? pieces[id].EnumerateRunes().Count() * normalScores.Max() - 0.1f : scores[id])
            .ToArray();
        maxPieceLength = segmentPieces.Keys.Select(p => p.Length).DefaultIfEmpty(1).Max();
    }

    public SentencePieceModelType ModelType => options.ModelType;
    public int VocabSize => pieces.Length;
    public int? BosId => options.BosId >= 0 ? options.BosId : null;
    public int? EosId => options.EosId >= 0 ? options.EosId : null;
    public bool AddsBos => BosId != null;

    public float Score(int id) => scores[CheckId(id)];
    public SentencePieceType PieceType(int id) => types[CheckId(id)];

    public static SentencePieceTokenizer Load(string path)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read SentencePiece model '{path}': {e.Message}", e);
        }
        try { return Parse(data); }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException($"'{path}' is not a valid SentencePiece model: {e.Message}.", e);
        }
    }

    static SentencePieceTokenizer Parse(byte[] data)
    {
        var entries = new List<(string, float, SentencePieceType)>();
        var options = new Options();
        var model = new ProtoReader(data);
        while (model.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1: entries.Add(ReadPiece(Message(model, wire, "pieces"))); break;
                case 2: ReadTrainerSpec(Message(model, wire, "trainer_spec"), options); break;
                case 3: ReadNormalizerSpec(Message(model, wire, "normalizer_spec"), options); break;
                default: model.Skip(wire); break;
            }
        }
        Validate(entries, options);
        return new SentencePieceTokenizer(entries, options);
    }

    static ProtoReader Message(ProtoReader reader, int wire, string name)
    {
        Expect(wire, ProtoReader.LengthDelimited, name);
        return reader.ReadMessage();
    }

    static void Expect(int wire, int expected, string name)
    {
        if (wire != expected) throw new InvalidDataException($"field '{name}' has wire type {wire}, expected {expected}");
    }

    static (string, float, SentencePieceType) ReadPiece(ProtoReader reader)
    {
        string piece = "";
        float score = 0;
        var type = SentencePieceType.Normal;
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1: Expect(wire, ProtoReader.LengthDelimited, "piece"); piece = reader.ReadString(); break;
                case 2: Expect(wire, ProtoReader.Fixed32, "score"); score = reader.ReadFloat(); break;
                case 3:
                    Expect(wire, ProtoReader.Varint, "type");
                    int value = reader.ReadInt32();
                    if (!Enum.IsDefined((SentencePieceType)value)) throw new InvalidDataException($"piece '{piece}' has unknown type {value}");
                    type = (SentencePieceType)value;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return (piece, score, type);
    }

    static void ReadTrainerSpec(ProtoReader reader, Options options)
    {
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 3: Expect(wire, ProtoReader.Varint, "model_type"); options.ModelType = (SentencePieceModelType)reader.ReadInt32(); break;
                case 24: Expect(wire, ProtoReader.Varint, "treat_whitespace_as_suffix"); options.TreatWhitespaceAsSuffix = reader.ReadBool(); break;
                case 35: Expect(wire, ProtoReader.Varint, "byte_fallback"); options.ByteFallback = reader.ReadBool(); break;
                case 40: Expect(wire, ProtoReader.Varint, "unk_id"); options.UnkId = reader.ReadInt32(); break;
                case 41: Expect(wire, ProtoReader.Varint, "bos_id"); options.BosId = reader.ReadInt32(); break;
                case 42: Expect(wire, ProtoReader.Varint, "eos_id"); options.EosId = reader.ReadInt32(); break;
                case 44: Expect(wire, ProtoReader.LengthDelimited, "unk_surface"); options.UnkSurface = reader.ReadString(); break;
                default: reader.Skip(wire); break;
            }
        }
    }

    static void ReadNormalizerSpec(ProtoReader reader, Options options)
    {
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 3: Expect(wire, ProtoReader.Varint, "add_dummy_prefix"); options.AddDummyPrefix = reader.ReadBool(); break;
                case 4: Expect(wire, ProtoReader.Varint, "remove_extra_whitespaces"); options.RemoveExtraWhitespaces = reader.ReadBool(); break;
                case 5: Expect(wire, ProtoReader.Varint, "escape_whitespaces"); options.EscapeWhitespaces = reader.ReadBool(); break;
                default: reader.Skip(wire); break;
            }
        }
    }

    static void Validate(List<(string Piece, float Score, SentencePieceType Type)> entries, Options options)
    {
        if (entries.Count == 0) throw new InvalidDataException("it has no pieces");
        if (options.ModelType is not (SentencePieceModelType.Bpe or SentencePieceModelType.Unigram))
            throw new InvalidDataException($"model type {options.ModelType} is not supported (only BPE and unigram)");
        if (options.TreatWhitespaceAsSuffix) throw new InvalidDataException("treat_whitespace_as_suffix is not supported");
        if ((uint)options.UnkId >= (uint)entries.Count || entries[options.UnkId].Type != SentencePieceType.Unknown)
            throw new InvalidDataException($"unk_id {options.UnkId} is not an unknown-type piece");
        foreach (var (name, id) in new[] { ("bos_id", options.BosId), ("eos_id", options.EosId) })
            if (id >= entries.Count) throw new InvalidDataException($"{name} {id} is outside the {entries.Count} pieces");
        if (options.ByteFallback)
        {
            var bytePieces = entries.Where(e => e.Type == SentencePieceType.Byte).Select(e => e.Piece).ToHashSet();
            for (int b = 0; b < 256; b++)
                if (!bytePieces.Contains($"<0x{b:X2}>")) throw new InvalidDataException($"byte_fallback is set but byte piece <0x{b:X2}> is missing");
        }
    }

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = new List<int>();
        if (addBos && BosId is int bos) ids.Add(bos);
        string normalized = Normalize(text);
        if (options.ModelType == SentencePieceModelType.Bpe) EncodeBpe(normalized, ids);
        else EncodeUnigram(normalized, ids);
        return ids.ToArray();
    }

    /// <summary>SentencePiece's whitespace handling under the identity rule: only U+0020 counts as a space.</summary>
    string Normalize(string text)
    {
        if (options.RemoveExtraWhitespaces)
        {
            var sb = new StringBuilder(text.Length);
            foreach (char c in text)
                if (c != ' ' || (sb.Length > 0 && sb[^1] != ' ')) sb.Append(c);
            if (sb.Length > 0 && sb[^1] == ' ') sb.Length--;
            text = sb.ToString();
        }
        if (text.Length == 0) return text;
        if (options.AddDummyPrefix) text = " " + text;
        return options.EscapeWhitespaces ? text.Replace(' ', TokenDisplay.Metaspace) : text;
    }

    void EncodeBpe(string normalized, List<int> ids)
    {
        var symbols = new List<string>();
        var frozen = new List<bool>();
        for (int i = 0; i < normalized.Length;)
        {
            string? userDefined = userDefinedPieces.FirstOrDefault(p => normalized.AsSpan(i).StartsWith(p, StringComparison.Ordinal));
            int length = userDefined?.Length ?? (char.IsSurrogatePair(normalized, i) ? 2 : 1);
            symbols.Add(normalized.Substring(i, length));
            frozen.Add(userDefined != null);
            i += length;
        }
        ScoredPairMerge.Run(symbols, segmentPieces, scores, float.NegativeInfinity, userDefinedPieces.Length > 0 ? frozen : null);
        foreach (string symbol in symbols)
        {
            if (segmentPieces.TryGetValue(symbol, out int id)) ids.Add(id);
            else AddUnknown(symbol, ids, mergeWithPreviousUnknown: false);
        }
    }

    void EncodeUnigram(string normalized, List<int> ids)
    {
        foreach (var (piece, id) in UnigramViterbi.Segment(normalized, segmentPieces, unigramScores, maxPieceLength, unknownScore))
        {
            if (id >= 0) ids.Add(id);
            else AddUnknown(piece, ids, mergeWithPreviousUnknown: true);
        }
    }

    /// <summary>Byte pieces for text outside the vocabulary, or the unknown id (SentencePiece's unigram joins runs of them into one).</summary>
    void AddUnknown(string text, List<int> ids, bool mergeWithPreviousUnknown)
    {
        if (options.ByteFallback)
        {
            foreach (byte b in Encoding.UTF8.GetBytes(text)) ids.Add(byteIds[b]);
        }
        else if (!(mergeWithPreviousUnknown && ids.Count > 0 && ids[^1] == options.UnkId))
        {
            ids.Add(options.UnkId);
        }
    }

    /// <summary>
    /// As SentencePiece decodes: ▁ becomes a space, the first piece drops the dummy-prefix space,
    /// byte pieces become bytes (UTF-8 decoded together), control pieces vanish and the unknown
    /// piece shows as its surface (<c> ⁇ </c>).
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        bool atStart = true;
        foreach (int id in ids)
        {
            switch (types[CheckId(id)])
            {
                case SentencePieceType.Control:
                    continue;
                case SentencePieceType.Byte when TokenDisplay.TryParseByteToken(pieces[id], out byte value):
                    bytes.Add(value);
                    break;
                case SentencePieceType.Unknown:
                    bytes.AddRange(Encoding.UTF8.GetBytes(options.UnkSurface));
                    break;
                default:
                    string text = pieces[id].Replace(TokenDisplay.Metaspace, ' ');
                    if (atStart && options.AddDummyPrefix && text.StartsWith(' ')) text = text[1..];
                    bytes.AddRange(Encoding.UTF8.GetBytes(text));
                    break;
            }
            atStart = false;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string TokenText(int id) => pieces[CheckId(id)];

    public string Display(int id)
    {
        string piece = pieces[CheckId(id)];
        if (types[id] == SentencePieceType.Byte && TokenDisplay.TryParseByteToken(piece, out byte value)) return TokenDisplay.RenderByte(value);
        return TokenDisplay.RenderBytes(Encoding.UTF8.GetBytes(piece.Replace(TokenDisplay.Metaspace, ' ')));
    }

    public int? TokenToId(string piece) => idOfPiece.TryGetValue(piece, out int id) ? id : null;

    int CheckId(int id) => (uint)id < (uint)pieces.Length
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {pieces.Length}.");
}
