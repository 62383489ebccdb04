using Glassbox.Datasets;
using static Glassbox.Tests.Datasets.DatasetTokenizers;

namespace Glassbox.Tests.Datasets;

public class GreaterThanDatasetTests
{
    [Fact]
    public void Prompts_read_as_in_the_paper_or_with_spaced_years_for_word_level()
    {
        var gpt2 = new GreaterThanDataset(Gpt2).Create("war", 32);
        Assert.Equal("The war lasted from the year 1732 to the year 17", gpt2.Text);
        Assert.Equal(["The", " war", " lasted", " from", " the", " year", " 17", "32", " to", " the", " year", " 17"], gpt2.Ids.Select(Gpt2.Display));
        Assert.Equal((7, 11), (gpt2.YyPosition, gpt2.EndPosition));
        Assert.Equal("The war lasted from the year 1701 to the year 17", gpt2.Corruption01().Text);

        var zoo = new GreaterThanDataset(Zoo).Create("expedition", 5);
        Assert.Equal("The expedition lasted from the year 17 05 to the year 17", zoo.Text);
        Assert.Equal((YearStyle.Spaced, 8), (new GreaterThanDataset(Zoo).YearStyle, zoo.YyPosition));
    }

    [Fact]
    public void Gpt2_keeps_the_start_years_whose_digits_follow_17_as_one_token()
    {
        var dataset = new GreaterThanDataset(Gpt2);
        int century = Gpt2.Encode(" 17").Single();
        var split = Enumerable.Range(2, 97).Where(yy => Gpt2.Encode($" 17{yy:00}") is [var c, var y] && c == century && y == Gpt2.Encode($"{yy:00}").Single());
        Assert.Equal(split, dataset.Years);
        // Every YY in 02..98 splits so for GPT-2; "1700" would not, which is one reason the range starts above 00.
        Assert.Equal(97, dataset.Years.Count);
        Assert.Single(Gpt2.Encode(" 1700"));
        Assert.All(GreaterThanDataset.Nouns, noun => Assert.Single(Gpt2.Encode(" " + noun)));
    }

    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void Year_tokens_are_distinct_and_spell_00_to_99(string tokenizer)
    {
        var tok = Get(tokenizer);
        var ids = new GreaterThanDataset(tok).YearTokenIds;
        Assert.Equal(100, ids.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 100).Select(yy => $"{yy:00}"), ids.Select(id => tok.Decode([id])));
    }

    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void The_01_corruption_changes_only_the_start_year_token(string tokenizer)
    {
        var dataset = new GreaterThanDataset(Get(tokenizer));
        foreach (var p in dataset.Generate(300, seed: 1))
        {
            var c = p.Corruption01();
            Assert.Equal([p.YyPosition], Differences(p.Ids, c.Ids));
            Assert.Equal(dataset.YearTokenIds[p.Yy], p.Ids[p.YyPosition]);
            Assert.Equal(dataset.YearTokenIds[1], c.Ids[c.YyPosition]);
            Assert.Equal((1, p.Noun, p.YyPosition, p.EndPosition), (c.Yy, c.Noun, c.YyPosition, c.EndPosition));
            Assert.Equal(p.Ids.Length - 1, p.EndPosition);
            Assert.Same(c, c.Corruption01());
            Assert.InRange(p.Yy, 2, 98);
        }
    }

    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void The_same_seed_gives_the_same_prompts_and_another_seed_others(string tokenizer)
    {
        var dataset = new GreaterThanDataset(Get(tokenizer));
        string Texts(int seed) => string.Join("\n", dataset.Generate(50, seed).Select(p => p.Text));
        Assert.Equal(Texts(7), Texts(7));
        Assert.NotEqual(Texts(7), Texts(8));
    }

    [Fact]
    public void Probability_difference_weighs_later_years_against_the_rest()
    {
        var uniform = Enumerable.Repeat(0.01, 100).ToArray();
        Assert.Equal(0.49 - 0.51, GreaterThanDataset.ProbabilityDifference(uniform, 50), 12);
        var onYear = new double[100];
        onYear[50] = 1;
        Assert.Equal(-1, GreaterThanDataset.ProbabilityDifference(onYear, 50));
        Assert.Equal(1, GreaterThanDataset.ProbabilityDifference(onYear, 49));
        Assert.Throws<ArgumentException>(() => GreaterThanDataset.ProbabilityDifference(new double[99], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => GreaterThanDataset.ProbabilityDifference(uniform, 100));
    }

    [Fact]
    public void Years_the_tokenizer_cannot_split_fail_clearly()
    {
        var error = Assert.Throws<GlassboxException>(() => new GreaterThanDataset(Zoo, yearStyle: YearStyle.Joined));
        Assert.Contains("no start year", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GreaterThanDataset(Zoo).Create("war", 1));
    }
}
