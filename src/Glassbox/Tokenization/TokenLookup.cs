namespace Glassbox.Tokenization;

/// <summary>
/// A user's word as token ids, refusing text the vocabulary cannot represent: a word-level vocabulary maps an unknown
/// word to &lt;unk&gt;, and reading that token's logit instead would be a silently wrong answer.
/// </summary>
public static class TokenLookup
{
    /// <summary>The ids of <paramref name="text"/> without BOS; an error naming <paramref name="what"/> when they do not decode back to it.</summary>
    public static int[] InVocabulary(this ITokenizer tokenizer, string text, string what)
    {
        var ids = tokenizer.Encode(text, addBos: false);
        if (tokenizer.Decode(ids).Trim() != text.Trim())
            throw new GlassboxException($"{what} '{text}' is not in the vocabulary (it encodes as [{Shown(tokenizer, ids)}]).");
        return ids;
    }

    /// <summary>The one token <paramref name="text"/> is: a raw vocabulary entry (e.g. <c>Ġthe</c>), or text that encodes to exactly one known token.</summary>
    public static int SingleToken(this ITokenizer tokenizer, string text, string what)
    {
        if (tokenizer.TokenToId(text) is { } id) return id;
        var ids = tokenizer.InVocabulary(text, what);
        return ids.Length == 1 ? ids[0] : throw new GlassboxException($"{what} '{text}' is {ids.Length} tokens, not one ([{Shown(tokenizer, ids)}]).");
    }

    static string Shown(ITokenizer tokenizer, IEnumerable<int> ids) => string.Join(", ", ids.Select(tokenizer.Display));
}
