namespace Glassbox.Datasets;

/// <summary>How a dataset generator writes its text.</summary>
public enum TextStyle
{
    /// <summary>Ordinary prose for subword tokenizers such as GPT-2's: "When Mary and John went to the store, John ...".</summary>
    Natural,
    /// <summary>
    /// Every punctuation mark a word of its own, "When Mary and John went to the store , John ...", so that a
    /// whitespace-split word-level vocabulary (<see cref="ZooVocabulary"/>) covers the text.
    /// </summary>
    WordLevel,
}
