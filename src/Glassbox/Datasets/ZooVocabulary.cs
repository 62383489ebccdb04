using Glassbox.Tokenization;

namespace Glassbox.Datasets;

/// <summary>
/// The word-level vocabulary of the project's small "zoo" models: exactly the words that
/// <see cref="IoiDataset"/>, <see cref="GreaterThanDataset"/> and <see cref="StoryGrammar"/> write in
/// word-level form (<see cref="TextStyle.WordLevel"/>, years <see cref="YearStyle.Spaced"/>), including
/// every two-digit year "00".."99", so that the models can be trained on those texts and probed with
/// the same tasks. <see cref="InductionDataset"/> draws from its ids.
/// </summary>
public static class ZooVocabulary
{
    public const string Pad = "<pad>";
    public const string Unk = "<unk>";
    public const string Bos = "<bos>";
    public const string Eos = "<eos>";

    /// <summary>The special tokens, which take ids 0 to 3 in this order.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = [Pad, Unk, Bos, Eos];

    /// <summary>All entries in id order: <see cref="SpecialTokens"/>, then the words in ordinal order.</summary>
    public static IReadOnlyList<string> Words { get; } =
    [
        .. SpecialTokens,
        .. IoiDataset.WordLevelWords.Concat(GreaterThanDataset.WordLevelWords).Concat(StoryGrammar.WordLevelWords)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal),
    ];

    /// <summary>A word-level tokenizer over <see cref="Words"/>: split on whitespace, BOS prepended, unknown words to <see cref="Unk"/>.</summary>
    public static WordLevelTokenizer CreateTokenizer() => WordLevelTokenizer.FromVocabulary(Words, SpecialTokens, Unk, Bos, Eos);
}
