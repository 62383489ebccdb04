namespace Glassbox.Tokenization;

/// <summary>
/// Which word each token of a sequence belongs to, read from the tokenizer's own decoding so that it works for every
/// vocabulary: a token starts a word when it decodes with leading whitespace, when decoding it after its predecessor
/// inserts a separator (word-level and SentencePiece vocabularies), or when either of them is a special token (decodes
/// to nothing). <c>Ġup</c>+<c>on</c> and <c>▁up</c>+<c>on</c> stay one word; <c>Ġa</c>, <c>Ġtime</c> are two.
/// </summary>
public static class WordSpans
{
    /// <summary>The word index of every token, from 0, non-decreasing.</summary>
    public static int[] Of(ITokenizer tokenizer, IReadOnlyList<long> ids)
    {
        var words = new int[ids.Count];
        string previous = ids.Count > 0 ? tokenizer.Decode([(int)ids[0]]) : "";
        for (int i = 1; i < ids.Count; i++)
        {
            string current = tokenizer.Decode([(int)ids[i]]);
            bool joined = previous.Length > 0 && current.Length > 0 && !char.IsWhiteSpace(current[0])
                && tokenizer.Decode([(int)ids[i - 1], (int)ids[i]]) == previous + current;
            words[i] = words[i - 1] + (joined ? 0 : 1);
            previous = current;
        }
        return words;
    }

    /// <summary>Each word's text: its tokens decoded together, trimmed (a special token shows as its display form).</summary>
    public static string[] Labels(ITokenizer tokenizer, IReadOnlyList<long> ids, int[] words) =>
        Enumerable.Range(0, ids.Count).GroupBy(i => words[i]).Select(word =>
        {
            var members = word.Select(i => (int)ids[i]).ToArray();
            string text = tokenizer.Decode(members).Trim();
            return text.Length > 0 ? text : string.Concat(members.Select(tokenizer.Display));
        }).ToArray();
}
