using System.Buffers;
using System.Globalization;
using System.Text;

namespace Glassbox.Tokenization;

/// <summary>
/// Shared rules for showing tokens to a person, so every tokenizer renders bytes, spaces and
/// control characters the same way.
/// </summary>
internal static class TokenDisplay
{
    /// <summary>SentencePiece's word-boundary marker, which stands for a space.</summary>
    public const char Metaspace = '\u2581';

    /// <summary>Recognises SentencePiece/llama2.c byte-fallback pieces, spelled exactly <c>&lt;0xNN&gt;</c>.</summary>
    public static bool TryParseByteToken(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// Shows UTF-8 bytes as text where they form printable characters or whitespace, and as
    /// <c>\xNN</c> where they do not (partial multi-byte sequences, control characters), so that
    /// no token displays as nothing or as a replacement character.
    /// </summary>
    public static string RenderBytes(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(bytes, out var rune, out int consumed);
            if (status == OperationStatus.Done && (!Rune.IsControl(rune) || Rune.IsWhiteSpace(rune)))
            {
                sb.Append(rune.ToString());
            }
            else
            {
                if (status != OperationStatus.Done) consumed = 1;
                foreach (var b in bytes[..consumed]) sb.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}");
            }
            bytes = bytes[consumed..];
        }
        return sb.ToString();
    }

    public static string RenderByte(byte value) => RenderBytes([value]);
}
