namespace Glassbox.Tokenization;

/// <summary>The kind of a SentencePiece vocabulary entry, numbered as in SentencePiece's ModelProto.</summary>
public enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    /// <summary>Markers such as BOS and EOS, never produced from text.</summary>
    Control = 3,
    /// <summary>Pieces matched whole in the text before any merging.</summary>
    UserDefined = 4,
    Unused = 5,
    /// <summary>Byte-fallback pieces <c>&lt;0x00&gt;</c>..<c>&lt;0xFF&gt;</c>.</summary>
    Byte = 6,
}
