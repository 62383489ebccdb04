namespace Glassbox.Datasets;

/// <summary>
/// Short stories from a small probabilistic grammar — "Once upon a time, Mary had a cat. The cat sat on
/// the mat. Then, Mary gave a ball to John." — so that the zoo models trained on
/// <see cref="ZooVocabulary"/> also see ordinary text, with the names, places and objects of the IOI
/// prompts (<see cref="WordLists"/>). Each story has a cast (two names and a pet) that its sentences keep
/// referring to, so names and animals recur as they do in the IOI and induction tasks.
/// </summary>
public sealed class StoryGrammar
{
    static readonly string[] Openings =
    [
        "Once upon a time , {X} had a {PET} .",
        "One day , {X} and {Y} went to the {PLACE} .",
        "{X} and {Y} were friends .",
    ];

    /// <summary>The sentences after the opening, equally likely; the first word is capitalised unless a connective comes first.</summary>
    static readonly string[] Sentences =
    [
        "the {PET} {ACT} {PREP} the {THING} .",
        "the {PET} {SEE} the {ANIMAL} .",
        "{X} {SEE} the {PET} .",
        "{X} played with the {PET} .",
        "{X} went to the {PLACE} .",
        "{X} and {Y} went to the {PLACE} .",
        "{X} gave a {OBJECT} to {Y} .",
        "{X} found a {OBJECT} at the {PLACE} .",
        "{X} was {ADJ} .",
        "the {PET} was {ADJ} .",
    ];

    static readonly string[] Connectives = ["Then ,", "After that ,", "Later ,"];
    const double ConnectiveProbability = 0.25;

    static readonly string[] Animals = ["cat", "dog", "bird", "rabbit", "fish", "horse"];

    /// <summary>The word choices of the slots that are neither cast nor <see cref="WordLists"/>.</summary>
    static readonly Dictionary<string, string[]> Choices = new()
    {
        ["ACT"] = ["sat", "slept", "played", "jumped"],
        ["PREP"] = ["on", "near", "under"],
        ["THING"] = ["mat", "bed", "table", "chair", "box"],
        ["SEE"] = ["saw", "chased", "liked", "found"],
        ["ADJ"] = ["happy", "sad", "tired", "hungry"],
    };

    /// <param name="style">Word-level text (the default, for the zoo tokenizer) or natural text.</param>
    /// <param name="minSentences">The fewest sentences in a story, the opening included.</param>
    /// <param name="maxSentences">The most sentences in a story.</param>
    public StoryGrammar(TextStyle style = TextStyle.WordLevel, int minSentences = 3, int maxSentences = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSentences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSentences, minSentences);
        Style = style;
        MinSentences = minSentences;
        MaxSentences = maxSentences;
    }

    public TextStyle Style { get; }
    public int MinSentences { get; }
    public int MaxSentences { get; }

    /// <summary><paramref name="count"/> stories from <paramref name="seed"/>.</summary>
    public IReadOnlyList<string> Generate(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var stories = new string[count];
        for (int i = 0; i < count; i++) stories[i] = Story(random);
        return stories;
    }

    string Story(Random random)
    {
        var cast = DatasetText.PickDistinct(random, WordLists.Names, 2);
        string pet = DatasetText.Pick(random, Animals);
        int sentences = random.Next(MinSentences, MaxSentences + 1);
        var words = Sentence(random, DatasetText.Pick(random, Openings), cast, pet);
        for (int i = 1; i < sentences; i++)
        {
            var sentence = Sentence(random, DatasetText.Pick(random, Sentences), cast, pet);
            if (random.NextDouble() < ConnectiveProbability) words.AddRange(DatasetText.Pick(random, Connectives).Split(' '));
            else sentence[0] = Capitalize(sentence[0]);
            words.AddRange(sentence);
        }
        return DatasetText.Join(words, Style);
    }

    static List<string> Sentence(Random random, string template, string[] cast, string pet)
    {
        bool swap = random.Next(2) == 1;
        var slots = Choices.ToDictionary(choice => choice.Key, choice => DatasetText.Pick(random, choice.Value));
        slots["X"] = cast[swap ? 1 : 0];
        slots["Y"] = cast[swap ? 0 : 1];
        slots["PET"] = pet;
        slots["ANIMAL"] = DatasetText.Pick(random, Animals.Where(animal => animal != pet).ToArray());
        slots["PLACE"] = DatasetText.Pick(random, WordLists.Places);
        slots["OBJECT"] = DatasetText.Pick(random, WordLists.Objects);
        return DatasetText.Fill(template, slots);
    }

    static string Capitalize(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    /// <summary>Every word the stories can contain in word-level form.</summary>
    internal static IEnumerable<string> WordLevelWords =>
        Openings.Concat(Sentences).Concat(Connectives).SelectMany(DatasetText.LiteralWords)
            .Concat(Sentences.Select(sentence => sentence.Split(' ')[0]).Where(word => !word.StartsWith('{')).Select(Capitalize))
            .Concat(Animals).Concat(Choices.Values.SelectMany(words => words))
            .Concat(WordLists.Names).Concat(WordLists.Places).Concat(WordLists.Objects);
}
