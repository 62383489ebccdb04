namespace Glassbox.Tokenization;

/// <summary>How a SentencePiece model segments text, numbered as in its TrainerSpec.</summary>
public enum SentencePieceModelType
{
    Unigram = 1,
    Bpe = 2,
    Word = 3,
    Char = 4,
}
