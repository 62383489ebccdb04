namespace Glassbox.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet: each of the 256 byte values is spelled as one printable Unicode
/// character (a space is <c>Ġ</c>, a newline <c>Ċ</c>), which is how byte-level BPE vocabularies
/// store their pieces. Needed to turn a piece back into the bytes it stands for.
/// </summary>
internal static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = BuildTable();
    static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    static char[] BuildTable()
    {
        // Printable Latin-1 bytes keep their own character; the others are moved to 256 and up, in byte order.
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool keeps = (b >= '!' && b <= '~') || (b >= '¡' && b <= '¬') || (b >= '®' && b <= 'ÿ');
            table[b] = keeps ? (char)b : (char)next++;
        }
        return table;
    }

    public static string Spell(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes a piece stands for, or null when it uses characters outside the alphabet (an added token).</summary>
    public static byte[]? TryUnspell(string piece)
    {
        var bytes = new byte[piece.Length];
        for (int i = 0; i < piece.Length; i++)
            if (!CharToByte.TryGetValue(piece[i], out bytes[i])) return null;
        return bytes;
    }
}
