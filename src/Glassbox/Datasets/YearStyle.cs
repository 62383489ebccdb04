namespace Glassbox.Datasets;

/// <summary>How <see cref="GreaterThanDataset"/> writes a year 17YY.</summary>
public enum YearStyle
{
    /// <summary>"1732", as in Hanna et al. (2023); GPT-2 splits it into " 17" and "32".</summary>
    Joined,
    /// <summary>"17 32", two words, for a word-level vocabulary holding "17" and "00".."99".</summary>
    Spaced,
}
