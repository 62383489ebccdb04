using Glassbox.Tokenization;

namespace Glassbox.Datasets;

/// <summary>
/// The greater-than task (Hanna et al. 2023, "How does GPT-2 compute greater-than?", arXiv 2305.00586):
/// "The war lasted from the year 1732 to the year 17" should be continued with a two-digit year greater
/// than 32. The prompts, their "01" corruptions (start year 1701), the token ids of the 100 candidate
/// years and the probability-difference metric serve activation patching and circuit discovery.
/// </summary>
public sealed class GreaterThanDataset
{
    /// <summary>The century, written before both years.</summary>
    public const int Century = 17;

    const string Template = "The {NOUN} lasted from the year {YEAR} to the year 17";

    /// <summary>Event nouns after the paper's list, each a single GPT-2 token after a space.</summary>
    public static IReadOnlyList<string> Nouns { get; } =
    [
        "war", "expedition", "siege", "voyage", "journey", "campaign", "reign", "dynasty", "treaty", "trial",
        "marriage", "plague", "project", "quest", "pilgrimage", "rivalry", "tour", "riot", "study", "invasion",
    ];

    readonly bool? prependBos;

    /// <param name="style">How to write the text; by default word-level for a <see cref="WordLevelTokenizer"/>, natural otherwise.</param>
    /// <param name="yearStyle">How to write 17YY; by default <see cref="YearStyle.Spaced"/> for word-level text and <see cref="YearStyle.Joined"/> otherwise.</param>
    /// <param name="prependBos">Null: the tokenizer's own convention; true or false: force a BOS on or off.</param>
    /// <exception cref="GlassboxException">
    /// A two-digit year is not one token after "17", or no start year in 02..98 tokenises as "17" followed by its two-digit token.
    /// </exception>
    public GreaterThanDataset(ITokenizer tokenizer, TextStyle? style = null, YearStyle? yearStyle = null, bool? prependBos = null)
    {
        Tokenizer = tokenizer;
        Style = style ?? DatasetText.StyleFor(tokenizer);
        YearStyle = yearStyle ?? (Style == TextStyle.WordLevel ? YearStyle.Spaced : YearStyle.Joined);
        this.prependBos = prependBos;
        string separator = YearStyle == YearStyle.Spaced ? " " : "";
        YearTokenIds = Enumerable.Range(0, 100).Select(yy => tokenizer.Encode($"{separator}{yy:00}", addBos: false) is [int id] && tokenizer.Decode([id]).Trim() == $"{yy:00}"
            ? id
            : throw new GlassboxException($"The two-digit year \"{separator}{yy:00}\" is not a single token under this tokenizer "
                + $"(year style {YearStyle}), so the greater-than task is not defined for it.")).ToArray();
        if (YearTokenIds.Distinct().Count() != 100)
            throw new GlassboxException("Two of the two-digit years 00..99 share a token under this tokenizer.");
        Years = Enumerable.Range(2, 97).Where(yy => TryCreate(Nouns[0], yy) != null).ToArray();
        if (Years.Count == 0)
            throw new GlassboxException($"No start year 17YY with YY in 02..98 tokenises as \"17\" followed by YY's own token under this tokenizer.");
    }

    public ITokenizer Tokenizer { get; }
    public TextStyle Style { get; }
    public YearStyle YearStyle { get; }

    /// <summary>
    /// The token of each two-digit year 00..99 as it would follow the final "17" (index = YY; "32" for
    /// GPT-2, without a space), the answer candidates over which the metric is computed. Found by encoding
    /// the two digits alone, as GPT-2 merges " 1700" into one token; <see cref="Years"/> checks them in context.
    /// </summary>
    public IReadOnlyList<int> YearTokenIds { get; }

    /// <summary>
    /// The start years YY in 02..98 whose 17YY tokenises as the century followed by YY's own token, so that the 01
    /// corruption changes exactly one token; as the paper does for GPT-2, prompts use only these.
    /// </summary>
    public IReadOnlyList<int> Years { get; }

    /// <summary><paramref name="count"/> prompts from <paramref name="seed"/>, each with a random noun and start year from <see cref="Years"/>.</summary>
    public IReadOnlyList<GreaterThanPrompt> Generate(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var prompts = new GreaterThanPrompt[count];
        for (int i = 0; i < count; i++) prompts[i] = Create(DatasetText.Pick(random, Nouns), DatasetText.Pick(random, Years));
        return prompts;
    }

    /// <summary>The prompt for one noun and start year, with its 01 corruption.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="yy"/> is not one of <see cref="Years"/>.</exception>
    /// <exception cref="GlassboxException">With this noun the 01 corruption would change more than the year's token.</exception>
    public GreaterThanPrompt Create(string noun, int yy)
    {
        if (!Years.Contains(yy)) throw new ArgumentOutOfRangeException(nameof(yy), yy, "Not one of the dataset's start years.");
        return TryCreate(noun, yy)
            ?? throw new GlassboxException($"\"{Render(noun, yy)}\" and its 01 corruption differ in more than the start year's token.");
    }

    /// <summary>The prompt, or null unless it and its 01 corruption have the same length and differ only at YY's token.</summary>
    GreaterThanPrompt? TryCreate(string noun, int yy)
    {
        string text = Render(noun, yy), corruptedText = Render(noun, 1);
        int[] ids = DatasetText.Encode(Tokenizer, text, prependBos), corrupted = DatasetText.Encode(Tokenizer, corruptedText, prependBos);
        if (ids.Length != corrupted.Length) return null;
        int[] differing = Enumerable.Range(0, ids.Length).Where(i => ids[i] != corrupted[i]).ToArray();
        if (differing is not [int at] || ids[at] != YearTokenIds[yy] || corrupted[at] != YearTokenIds[1]) return null;
        return new GreaterThanPrompt(text, ids, noun, yy, at, ids.Length - 1)
        {
            Corruption = new GreaterThanPrompt(corruptedText, corrupted, noun, 1, at, ids.Length - 1),
        };
    }

    string Render(string noun, int yy)
    {
        string year = YearStyle == YearStyle.Spaced ? $"{Century} {yy:00}" : $"{Century}{yy:00}";
        return DatasetText.Join(DatasetText.Fill(Template, new Dictionary<string, string> { ["NOUN"] = noun, ["YEAR"] = year }), Style);
    }

    /// <summary>
    /// Hanna et al.'s probability difference, <c>Σ_{y>YY} p(y) − Σ_{y≤YY} p(y)</c>, from the probabilities
    /// of the 100 two-digit years at the end position (read at <see cref="YearTokenIds"/>, index = year).
    /// It is 1 when all mass is on later years and −1 when all is on YY or earlier.
    /// </summary>
    public static double ProbabilityDifference(ReadOnlySpan<double> probsOver100Years, int yy)
    {
        if (probsOver100Years.Length != 100)
            throw new ArgumentException($"Expected the probabilities of the 100 years 00..99, got {probsOver100Years.Length}.", nameof(probsOver100Years));
        ArgumentOutOfRangeException.ThrowIfNegative(yy);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(yy, 99);
        double difference = 0;
        for (int y = 0; y < 100; y++) difference += y > yy ? probsOver100Years[y] : -probsOver100Years[y];
        return difference;
    }

    /// <summary>Every word the prompts can contain in word-level form, and the 100 two-digit years.</summary>
    internal static IEnumerable<string> WordLevelWords =>
        DatasetText.LiteralWords(Template).Concat(Nouns).Append($"{Century}").Concat(Enumerable.Range(0, 100).Select(yy => yy.ToString("00")));
}
