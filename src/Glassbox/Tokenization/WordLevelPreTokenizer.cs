namespace Glassbox.Tokenization;

/// <summary>How a word-level tokenizer cuts text into words, named as the Hugging Face pre-tokenizers it matches.</summary>
public enum WordLevelPreTokenizer
{
    /// <summary>Split on whitespace only: "Hello, world!" gives "Hello," and "world!".</summary>
    WhitespaceSplit,
    /// <summary>Runs of word characters and runs of other non-space characters: "Hello", ",", "world", "!".</summary>
    Whitespace,
}
