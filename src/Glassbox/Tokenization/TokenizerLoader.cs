namespace Glassbox.Tokenization;

/// <summary>Opens a tokenizer by its file type, so callers can take any tokenizer path from a user.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// <c>*.bin</c>: llama2.c; <c>*.model</c>: SentencePiece; <c>*.json</c> (normally
    /// <c>tokenizer.json</c>): Hugging Face, read by <see cref="WordLevelTokenizer"/> when it is a
    /// plain word-level vocabulary and by <see cref="HfTokenizer"/> otherwise. A directory is
    /// searched for <c>tokenizer.json</c>, then <c>tokenizer.model</c>, then <c>tokenizer.bin</c>.
    /// </summary>
    /// <param name="vocabSize">
    /// The model's vocabulary size: checked against llama2.c files, which do not record it; a tokenizer with fewer tokens
    /// is wrapped in <see cref="PaddedVocabulary"/> so the model's extra ids can be shown.
    /// </param>
    public static ITokenizer Load(string path, int? vocabSize = null)
    {
        var tokenizer = LoadFile(path, vocabSize);
        return vocabSize is int n && tokenizer.VocabSize < n ? new PaddedVocabulary(tokenizer, n) : tokenizer;
    }

    static ITokenizer LoadFile(string path, int? vocabSize)
    {
        if (Directory.Exists(path))
        {
            string? found = new[] { "tokenizer.json", "tokenizer.model", "tokenizer.bin" }
                .Select(name => Path.Combine(path, name)).FirstOrDefault(File.Exists);
            return found != null
                ? LoadFile(found, vocabSize)
                : throw new ModelFormatException($"Directory '{path}' holds no tokenizer.json, tokenizer.model or tokenizer.bin.");
        }
        if (!File.Exists(path)) throw new ModelFormatException($"Tokenizer file '{path}' does not exist.");

        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".bin" => Llama2cTokenizer.Load(path, vocabSize),
            ".model" => SentencePieceTokenizer.Load(path),
            ".json" => LoadJson(path),
            _ => throw new ModelFormatException(
                $"Cannot tell what kind of tokenizer '{path}' is: expected a llama2.c .bin, a SentencePiece .model or a Hugging Face tokenizer.json."),
        };
    }

    static ITokenizer LoadJson(string path)
    {
        using var document = HfTokenizerJson.Parse(path);
        return WordLevelTokenizer.Supports(document.RootElement)
            ? WordLevelTokenizer.FromJson(document.RootElement, path)
            : HfTokenizer.Load(path);
    }
}
