using System.Text;

namespace Glassbox.Tests.Tokenization;

/// <summary>Writes small tokenizer files in the real formats, so tests need no shared models.</summary>
public static class TokenizerFiles
{
    /// <summary>
    /// A llama2.c tokenizer.bin: &lt;unk&gt;, BOS, EOS, the 256 byte tokens, then <paramref name="pieces"/>
    /// (text, score) from id 259.
    /// </summary>
    public static void WriteLlama2c(string path, params (string Piece, float Score)[] pieces)
    {
        var all = new List<(string, float)> { ("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0) };
        all.AddRange(Enumerable.Range(0, 256).Select(b => ($"<0x{b:X2}>", 0f)));
        all.AddRange(pieces);
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(all.Max(p => Encoding.UTF8.GetByteCount(p.Item1)));
        foreach (var (piece, score) in all)
        {
            var bytes = Encoding.UTF8.GetBytes(piece);
            writer.Write(score);
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    /// <summary>The options of a SentencePiece ModelProto that the tests vary.</summary>
    public sealed record SentencePieceSpec
    {
        public int ModelType { get; init; } = 2;
        public bool ByteFallback { get; init; }
        public bool? RemoveExtraWhitespaces { get; init; }
        public bool? AddDummyPrefix { get; init; }
    }

    /// <summary>
    /// A SentencePiece .model: &lt;unk&gt; (unknown), &lt;s&gt; and &lt;/s&gt; (control), the 256
    /// byte pieces when byte fallback is on, then <paramref name="pieces"/> (text, score, type).
    /// Returns each piece's id.
    /// </summary>
    public static Dictionary<string, int> WriteSentencePiece(string path, SentencePieceSpec spec, params (string Piece, float Score, int Type)[] pieces)
    {
        var all = new List<(string Piece, float Score, int Type)> { ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3) };
        if (spec.ByteFallback) all.AddRange(Enumerable.Range(0, 256).Select(b => ($"<0x{b:X2}>", 0f, 6)));
        all.AddRange(pieces);

        var model = new MemoryStream();
        foreach (var (piece, score, type) in all)
        {
            var message = new MemoryStream();
            WriteString(message, 1, piece);
            WriteTag(message, 2, 5);
            message.Write(BitConverter.GetBytes(score));
            WriteTag(message, 3, 0);
            WriteVarint(message, (ulong)type);
            WriteBytes(model, 1, message.ToArray());
        }

        var trainer = new MemoryStream();
        WriteTag(trainer, 3, 0);
        WriteVarint(trainer, (ulong)spec.ModelType);
        WriteTag(trainer, 35, 0);
        WriteVarint(trainer, spec.ByteFallback ? 1UL : 0UL);
        WriteBytes(model, 2, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteString(normalizer, 1, "identity");
        if (spec.AddDummyPrefix is bool add) { WriteTag(normalizer, 3, 0); WriteVarint(normalizer, add ? 1UL : 0UL); }
        if (spec.RemoveExtraWhitespaces is bool remove) { WriteTag(normalizer, 4, 0); WriteVarint(normalizer, remove ? 1UL : 0UL); }
        WriteBytes(model, 3, normalizer.ToArray());

        File.WriteAllBytes(path, model.ToArray());
        return all.Select((p, id) => (p.Piece, id)).ToDictionary(p => p.Piece, p => p.id);
    }

    static void WriteTag(Stream s, int field, int wire) => WriteVarint(s, (ulong)(field << 3 | wire));

    static void WriteVarint(Stream s, ulong value)
    {
        for (; value >= 0x80; value >>= 7) s.WriteByte((byte)(value | 0x80));
        s.WriteByte((byte)value);
    }

    static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    static void WriteString(Stream s, int field, string text) => WriteBytes(s, field, Encoding.UTF8.GetBytes(text));
}
