using System.Buffers.Binary;
using System.Text;

namespace Glassbox.Tokenization;

/// <summary>
/// Just enough of the protobuf wire format to read a SentencePiece <c>ModelProto</c>: varints,
/// fixed32, fixed64 and length-delimited fields. A dependency on a protobuf library (and a
/// generated schema) would be heavier than these few rules. Malformed input raises
/// <see cref="InvalidDataException"/> with the byte offset in the file; callers add the file name.
/// </summary>
internal sealed class ProtoReader(ReadOnlyMemory<byte> data, int fileOffset = 0)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    int position;

    /// <summary>Reads the next field's number and wire type; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        field = wireType = 0;
        if (position >= data.Length) return false;
        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0 || tag >> 3 > int.MaxValue) throw Invalid($"invalid field number {tag >> 3}");
        if (wireType is not (Varint or Fixed64 or LengthDelimited or Fixed32))
            throw Invalid($"unsupported wire type {wireType} for field {field}");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = Take(1)[0];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw Invalid("varint longer than 10 bytes");
    }

    /// <summary>An int32 field: negative values are sent as 10-byte varints, so truncating to 32 bits recovers them.</summary>
    public int ReadInt32() => (int)ReadVarint();

    public bool ReadBool() => ReadVarint() != 0;

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public ReadOnlyMemory<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(data.Length - position)) throw Invalid($"length {length} runs past the end");
        var slice = data.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes().Span);

    public ProtoReader ReadMessage()
    {
        var bytes = ReadBytes();
        return new ProtoReader(bytes, fileOffset + position - bytes.Length);
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Take(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Take(4); break;
            default: throw Invalid($"cannot skip wire type {wireType}");
        }
    }

    ReadOnlySpan<byte> Take(int count)
    {
        if (data.Length - position < count) throw Invalid("unexpected end of data");
        var span = data.Span.Slice(position, count);
        position += count;
        return span;
    }

    InvalidDataException Invalid(string problem) => new($"{problem} at byte {fileOffset + position}");
}
