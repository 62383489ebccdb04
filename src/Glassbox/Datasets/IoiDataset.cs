using Glassbox.Tokenization;

namespace Glassbox.Datasets;

/// <summary>
/// Indirect object identification prompts (Wang et al. 2022, "Interpretability in the Wild", arXiv
/// 2211.00593): "When Mary and John went to the store, John gave a drink to" → " Mary". The subject
/// (S) is named twice and the indirect object (IO) once; a model that has the IOI circuit predicts
/// the IO. Each prompt carries its ABC corruption and the IO, S1, S2 and end positions, found in the
/// token ids, for activation and path patching and the logit difference <c>logit(IO) − logit(S)</c>.
/// </summary>
public sealed class IoiDataset
{
    /// <summary>
    /// The templates, in word-level form, after the paper's BABA/ABBA templates. <c>{A}</c> and
    /// <c>{B}</c> are the first two names (IO then S for ABBA, S then IO for BABA), <c>{S}</c> the
    /// subject's second mention; the IO is the answer after the last word.
    /// </summary>
    public static IReadOnlyList<string> Templates { get; } =
    [
        "When {A} and {B} went to the {PLACE} , {S} gave a {OBJECT} to",
        "Then , {A} and {B} went to the {PLACE} . {S} gave a {OBJECT} to",
        "Then , {A} and {B} had a lot of fun at the {PLACE} . {S} gave a {OBJECT} to",
        "Then , {A} and {B} were working at the {PLACE} . {S} decided to give a {OBJECT} to",
        "Then , {A} and {B} were thinking about going to the {PLACE} . {S} wanted to give a {OBJECT} to",
        "Then , {A} and {B} had a long argument , and afterwards {S} said to",
        "After {A} and {B} went to the {PLACE} , {S} gave a {OBJECT} to",
        "When {A} and {B} got a {OBJECT} at the {PLACE} , {S} decided to give it to",
        "While {A} and {B} were working at the {PLACE} , {S} gave a {OBJECT} to",
        "While {A} and {B} were commuting to the {PLACE} , {S} gave a {OBJECT} to",
        "After the lunch , {A} and {B} went to the {PLACE} . {S} gave a {OBJECT} to",
        "Afterwards , {A} and {B} went to the {PLACE} . {S} gave a {OBJECT} to",
        "Friends {A} and {B} found a {OBJECT} at the {PLACE} . {S} gave it to",
    ];

    readonly bool? prependBos;

    /// <param name="style">How to write the text; by default word-level for a <see cref="WordLevelTokenizer"/>, natural otherwise.</param>
    /// <param name="prependBos">Null: the tokenizer's own convention; true or false: force a BOS on or off.</param>
    /// <exception cref="GlassboxException">Fewer than five of <see cref="WordLists.Names"/> are single tokens under the tokenizer.</exception>
    public IoiDataset(ITokenizer tokenizer, TextStyle? style = null, bool? prependBos = null)
    {
        Tokenizer = tokenizer;
        Style = style ?? DatasetText.StyleFor(tokenizer);
        this.prependBos = prependBos;
        var names = WordLists.Names;
        string probe = Render(0, IoiOrder.Abba, names[0], names[1], names[1], WordLists.Places[0], WordLists.Objects[0]);
        Names = names.Where(name => NameToken(probe, name) != null).ToArray();
        if (Names.Count < 5)
            throw new GlassboxException($"Only {Names.Count} of the {names.Count} IOI names are single tokens under this tokenizer; "
                + "at least five are needed (IO, S and the three ABC names).");
    }

    public ITokenizer Tokenizer { get; }
    public TextStyle Style { get; }

    /// <summary>The names of <see cref="WordLists.Names"/> that are single tokens as an answer under this tokenizer; prompts draw from these.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// <paramref name="count"/> prompts from <paramref name="seed"/>: a random template, five different
    /// names (IO, S, and A, B, C for the corruption), a place and an object each. With no
    /// <paramref name="order"/>, ABBA and BABA alternate, starting with ABBA.
    /// </summary>
    public IReadOnlyList<IoiPrompt> Generate(int count, int seed, IoiOrder? order = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var prompts = new IoiPrompt[count];
        for (int i = 0; i < count; i++)
        {
            int template = random.Next(Templates.Count);
            var names = DatasetText.PickDistinct(random, Names, 5);
            string place = DatasetText.Pick(random, WordLists.Places), @object = DatasetText.Pick(random, WordLists.Objects);
            prompts[i] = Create(template, order ?? (i % 2 == 0 ? IoiOrder.Abba : IoiOrder.Baba), names[0], names[1], place, @object,
                (names[2], names[3], names[4]));
        }
        return prompts;
    }

    /// <summary>One prompt with the given template, order, IO and S names, place and object, and ABC corruption names.</summary>
    /// <exception cref="ArgumentException">The five names are not all different.</exception>
    /// <exception cref="GlassboxException">
    /// The clean and corrupted prompts tokenise to different lengths, or a name is not one token at its slot.
    /// </exception>
    public IoiPrompt Create(int templateId, IoiOrder order, string io, string s, string place, string @object, (string A, string B, string C) abc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(templateId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(templateId, Templates.Count);
        if (new[] { io, s, abc.A, abc.B, abc.C }.Distinct().Count() != 5)
            throw new ArgumentException($"IO, S and the ABC names must be five different names, not {io}, {s}, {abc.A}, {abc.B}, {abc.C}.");
        string cleanText = Render(templateId, order, io, s, s, place, @object);
        string corruptedText = Render(templateId, order, abc.A, abc.B, abc.C, place, @object);
        int[] cleanIds = DatasetText.Encode(Tokenizer, cleanText, prependBos), corruptedIds = DatasetText.Encode(Tokenizer, corruptedText, prependBos);
        if (cleanIds.Length != corruptedIds.Length)
            throw new GlassboxException($"The IOI prompt \"{cleanText}\" ({cleanIds.Length} tokens) and its ABC corruption \"{corruptedText}\" "
                + $"({corruptedIds.Length} tokens) must tokenise to the same length; use names that are single tokens.");
        var corrupted = Locate(templateId, order, corruptedText, corruptedIds, abc.A, abc.B, abc.C);
        var clean = Locate(templateId, order, cleanText, cleanIds, io, s, s);
        if ((clean.IoPosition, clean.S1Position, clean.S2Position) != (corrupted.IoPosition, corrupted.S1Position, corrupted.S2Position))
            throw new GlassboxException($"The names of the IOI prompt \"{cleanText}\" and of its ABC corruption \"{corruptedText}\" "
                + "fall at different token positions.");
        return clean with { Corruption = corrupted };
    }

    string Render(int templateId, IoiOrder order, string io, string s1, string s2, string place, string @object)
    {
        var slots = new Dictionary<string, string>
        {
            ["A"] = order == IoiOrder.Abba ? io : s1,
            ["B"] = order == IoiOrder.Abba ? s1 : io,
            ["S"] = s2,
            ["PLACE"] = place,
            ["OBJECT"] = @object,
        };
        return DatasetText.Join(DatasetText.Fill(Templates[templateId], slots), Style);
    }

    /// <summary>Finds each name's token among the ids: IO once, S1 and S2 once each or, when the same name, twice.</summary>
    IoiPrompt Locate(int templateId, IoiOrder order, string text, int[] ids, string io, string s1, string s2)
    {
        int Token(string name) => NameToken(text, name)
            ?? throw new GlassboxException($"The IOI name '{name}' is not a single token after \"{text}\" under this tokenizer.");
        int[] Find(string name, int token, int times)
        {
            int[] at = Enumerable.Range(0, ids.Length).Where(i => ids[i] == token).ToArray();
            return at.Length == times ? at : throw new GlassboxException(
                $"In the IOI prompt \"{text}\" the name '{name}' (token {token}, \"{Tokenizer.Display(token)}\") occurs {at.Length} times "
                + $"among the tokens, not {times}; names must tokenise the same inside the prompt as after it.");
        }

        int ioToken = Token(io), s1Token = Token(s1);
        int[] s = s1 == s2 ? Find(s1, s1Token, 2) : [Find(s1, s1Token, 1)[0], Find(s2, Token(s2), 1)[0]];
        return new IoiPrompt(text, ids, templateId, order, io, s1, s2, Find(io, ioToken, 1)[0], s[0], s[1], ids.Length - 1, ioToken, s1Token);
    }

    /// <summary>The one token that spells <paramref name="name"/> after <paramref name="text"/> and a space, or null (several tokens, or unknown).</summary>
    int? NameToken(string text, string name) =>
        DatasetText.NextToken(Tokenizer, text, " " + name, prependBos) is int token && Tokenizer.Decode([token]).Trim() == name ? token : null;

    /// <summary>Every word the prompts can contain in word-level form.</summary>
    internal static IEnumerable<string> WordLevelWords =>
        Templates.SelectMany(DatasetText.LiteralWords).Concat(WordLists.Names).Concat(WordLists.Places).Concat(WordLists.Objects);
}
