using Glassbox.Datasets;

namespace Glassbox.Tests.Datasets;

public class StoryGrammarTests
{
    [Fact]
    public void Stories_have_the_configured_number_of_sentences()
    {
        var stories = new StoryGrammar(minSentences: 2, maxSentences: 4).Generate(200, seed: 1);
        var lengths = stories.Select(story => story.Split(' ').Count(word => word == ".")).ToList();
        Assert.All(lengths, n => Assert.InRange(n, 2, 4));
        Assert.Equal([2, 3, 4], lengths.Distinct().Order());
        Assert.All(new StoryGrammar(minSentences: 1, maxSentences: 1).Generate(20, seed: 1), story => Assert.EndsWith(" .", story));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StoryGrammar(minSentences: 3, maxSentences: 2));
    }

    [Fact]
    public void Natural_text_attaches_punctuation_and_capitalises_sentences()
    {
        var wordLevel = new StoryGrammar(TextStyle.WordLevel).Generate(100, seed: 3);
        var natural = new StoryGrammar(TextStyle.Natural).Generate(100, seed: 3);
        for (int i = 0; i < natural.Count; i++)
        {
            Assert.Equal(wordLevel[i].Replace(" ,", ",").Replace(" .", "."), natural[i]);
            foreach (string sentence in natural[i].Split(". ", StringSplitOptions.RemoveEmptyEntries))
                Assert.True(char.IsUpper(sentence[0]), sentence);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_stories_and_another_seed_others()
    {
        var grammar = new StoryGrammar();
        Assert.Equal(grammar.Generate(20, 7), grammar.Generate(20, 7));
        Assert.NotEqual(grammar.Generate(20, 7), grammar.Generate(20, 8));
    }
}
