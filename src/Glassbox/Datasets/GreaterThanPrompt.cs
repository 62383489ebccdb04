namespace Glassbox.Datasets;

/// <summary>
/// One greater-than prompt (<see cref="GreaterThanDataset"/>), "The war lasted from the year 1732 to the year 17",
/// with the position of the start year's two-digit token and the end position where the end year's is predicted.
/// </summary>
/// <param name="Ids">The tokenizer's encoding of <paramref name="Text"/>, with a BOS if it adds one or one was asked for.</param>
/// <param name="Yy">The start year within the century: 32 for 1732.</param>
/// <param name="YyPosition">The token of <paramref name="Yy"/>, the only one the 01 corruption changes.</param>
/// <param name="EndPosition">The last token (the second "17"), whose next-token prediction is the end year.</param>
public sealed record GreaterThanPrompt(string Text, int[] Ids, string Noun, int Yy, int YyPosition, int EndPosition)
{
    internal GreaterThanPrompt? Corruption { get; init; }

    /// <summary>
    /// Hanna et al.'s "01" corruption: the same prompt with the start year 1701, which tells the model
    /// nothing about which end years are greater. Same length and positions; only <see cref="YyPosition"/> differs.
    /// A prompt whose start year is already 01 is its own corruption.
    /// </summary>
    public GreaterThanPrompt Corruption01() => Corruption ?? this;
}
