using System.Buffers.Binary;
using System.Text;

namespace Glassbox.Tests.Reference;

/// <summary>
/// A llama2.c tokenizer .bin read only for decoding: int32 max_token_length, then per token a float32
/// score, an int32 byte length and the bytes. Decoding follows llama2.c: a token after BOS drops one
/// leading space, and a piece "&lt;0xNN&gt;" is the byte NN.
/// </summary>
public sealed class Llama2cVocabulary
{
    public const int Bos = 1;

    readonly byte[][] pieces;

    Llama2cVocabulary(byte[][] pieces) => this.pieces = pieces;

    public int Count => pieces.Length;

    public static Llama2cVocabulary Load(string path, int vocabSize)
    {
        var bytes = File.ReadAllBytes(path);
        int position = 4; // max_token_length
        var pieces = new byte[vocabSize][];
        for (int i = 0; i < vocabSize; i++)
        {
            position += 4; // merge score
            int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            position += 4;
            pieces[i] = bytes.AsSpan(position, length).ToArray();
            position += length;
        }
        return new Llama2cVocabulary(pieces);
    }

    public string Piece(int token) => Encoding.UTF8.GetString(pieces[token]);

    /// <summary>The bytes llama2.c prints for <paramref name="token"/> following <paramref name="previous"/>.</summary>
    public byte[] DecodeBytes(int previous, int token)
    {
        var piece = pieces[token];
        var text = Encoding.ASCII.GetString(piece);
        if (piece.Length == 6 && text.StartsWith("<0x") && text.EndsWith('>'))
            return [Convert.ToByte(text.Substring(3, 2), 16)];
        if (previous == Bos && piece.Length > 0 && piece[0] == (byte)' ') return piece[1..];
        return piece;
    }

    /// <summary>Decodes a generated sequence whose first element is the prompt token (e.g. BOS), which is not printed.</summary>
    public string Decode(IReadOnlyList<int> tokens)
    {
        var bytes = new List<byte>();
        for (int i = 1; i < tokens.Count; i++) bytes.AddRange(DecodeBytes(tokens[i - 1], tokens[i]));
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
