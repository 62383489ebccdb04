using System.Text;
using Glassbox.Tokenization;

namespace Glassbox.Datasets;

/// <summary>Templates, rendering, encoding and seeded choices shared by the dataset generators.</summary>
internal static class DatasetText
{
    /// <summary>Marks that natural text attaches to the word before them.</summary>
    static readonly HashSet<string> Punctuation = [",", ".", ":", ";", "!", "?"];

    /// <summary>Word-level text for word-level tokenizers, natural text for the rest.</summary>
    public static TextStyle StyleFor(ITokenizer tokenizer) => PaddedVocabulary.Unwrap(tokenizer) is WordLevelTokenizer ? TextStyle.WordLevel : TextStyle.Natural;

    /// <summary>
    /// The words of a template written in word-level form (words separated by single spaces,
    /// punctuation a word of its own), each <c>{SLOT}</c> replaced by the words of its value.
    /// </summary>
    public static List<string> Fill(string template, IReadOnlyDictionary<string, string> slots)
    {
        var words = new List<string>();
        foreach (string word in template.Split(' '))
            if (IsSlot(word)) words.AddRange(slots[word[1..^1]].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            else words.Add(word);
        return words;
    }

    /// <summary>The words of a template that are not slots.</summary>
    public static IEnumerable<string> LiteralWords(string template) => template.Split(' ').Where(word => !IsSlot(word));

    static bool IsSlot(string word) => word.Length > 2 && word[0] == '{' && word[^1] == '}';

    /// <summary>Joins words with single spaces, except that natural text attaches punctuation to the word before it.</summary>
    public static string Join(IEnumerable<string> words, TextStyle style)
    {
        if (style == TextStyle.WordLevel) return string.Join(' ', words);
        var text = new StringBuilder();
        foreach (string word in words)
        {
            if (text.Length > 0 && !Punctuation.Contains(word)) text.Append(' ');
            text.Append(word);
        }
        return text.ToString();
    }

    /// <summary>
    /// Encodes by the tokenizer's own BOS convention (<paramref name="prependBos"/> null), or with a
    /// BOS forced on (true) or off (false).
    /// </summary>
    public static int[] Encode(ITokenizer tokenizer, string text, bool? prependBos)
    {
        int[] ids = tokenizer.Encode(text, addBos: prependBos != false);
        if (prependBos != true || ids.Length > 0 && ids[0] == tokenizer.BosId) return ids;
        int bos = tokenizer.BosId ?? throw new GlassboxException("A BOS token was asked for, but the tokenizer has none.");
        return [bos, .. ids];
    }

    /// <summary>
    /// The one token that <paramref name="continuation"/> adds after <paramref name="text"/>, i.e. the
    /// token a model would predict next; null when it adds several tokens or changes earlier ones.
    /// </summary>
    public static int? NextToken(ITokenizer tokenizer, string text, string continuation, bool? prependBos)
    {
        int[] before = Encode(tokenizer, text, prependBos), after = Encode(tokenizer, text + continuation, prependBos);
        return after.Length == before.Length + 1 && after.AsSpan(0, before.Length).SequenceEqual(before) ? after[^1] : null;
    }

    public static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary><paramref name="count"/> different items in random order (a partial Fisher–Yates shuffle).</summary>
    public static T[] PickDistinct<T>(Random random, IReadOnlyList<T> items, int count)
    {
        var pool = items.ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, pool.Length);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..count];
    }
}
