using Glassbox.Datasets;
using Glassbox.Tokenization;
using static Glassbox.Tests.Datasets.DatasetTokenizers;

namespace Glassbox.Tests.Datasets;

public class IoiDatasetTests
{
    [Fact]
    public void Canonical_prompt_reads_as_in_the_paper_with_positions_from_the_tokens()
    {
        var gpt2 = new IoiDataset(Gpt2).Create(0, IoiOrder.Abba, "Mary", "John", "store", "drink", ("Alice", "Bob", "Kate"));
        Assert.Equal("When Mary and John went to the store, John gave a drink to", gpt2.Text);
        Assert.Equal((1, 3, 9, 13), (gpt2.IoPosition, gpt2.S1Position, gpt2.S2Position, gpt2.EndPosition));
        Assert.Equal(Gpt2.Encode(" Mary").Single(), gpt2.IoToken);
        Assert.Equal(Gpt2.Encode(" John").Single(), gpt2.SToken);
        Assert.Equal("When Alice and Bob went to the store, Kate gave a drink to", gpt2.AbcCorruption().Text);

        var zoo = new IoiDataset(Zoo).Create(0, IoiOrder.Baba, "Mary", "John", "store", "drink", ("Alice", "Bob", "Kate"));
        Assert.Equal("When John and Mary went to the store , John gave a drink to", zoo.Text);
        Assert.Equal(Zoo.BosId, zoo.Ids[0]);
        Assert.Equal((4, 2, 10, 14), (zoo.IoPosition, zoo.S1Position, zoo.S2Position, zoo.EndPosition));
        Assert.Equal(Zoo.TokenToId("Mary"), zoo.IoToken);
    }

    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void Declared_positions_hold_the_name_tokens_in_template_order(string tokenizer)
    {
        var tok = Get(tokenizer);
        foreach (var p in new IoiDataset(tok).Generate(200, seed: 1))
        {
            Assert.Equal(p.IoToken, p.Ids[p.IoPosition]);
            Assert.Equal(p.SToken, p.Ids[p.S1Position]);
            Assert.Equal(p.SToken, p.Ids[p.S2Position]);
            Assert.Equal(p.S1Name, p.S2Name);
            Assert.Equal(p.Ids.Length - 1, p.EndPosition);
            Assert.Equal(tok.Encode(p.Text), p.Ids);
            // The answer token is the IO as it would come next, e.g. " Mary" after "... to" for GPT-2.
            Assert.Equal([.. p.Ids, p.IoToken], tok.Encode(p.Text + " " + p.IoName));
            Assert.Equal(p.IoName, tok.Decode([p.IoToken]).Trim());
            Assert.Equal(p.S1Name, tok.Decode([p.SToken]).Trim());
            Assert.True(p.S1Position < p.S2Position && p.S2Position < p.EndPosition);
            if (p.Order == IoiOrder.Abba) Assert.True(p.IoPosition < p.S1Position);
            else Assert.True(p.S1Position < p.IoPosition);
        }
    }

    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void Abc_corruption_changes_exactly_the_three_name_tokens(string tokenizer)
    {
        foreach (var p in new IoiDataset(Get(tokenizer)).Generate(200, seed: 2))
        {
            var c = p.AbcCorruption();
            Assert.Equal(new[] { p.IoPosition, p.S1Position, p.S2Position }.Order(), Differences(p.Ids, c.Ids));
            Assert.Equal((p.IoPosition, p.S1Position, p.S2Position, p.EndPosition), (c.IoPosition, c.S1Position, c.S2Position, c.EndPosition));
            Assert.Equal((p.TemplateId, p.Order), (c.TemplateId, c.Order));
            Assert.Equal(5, new[] { p.IoName, p.S1Name, c.IoName, c.S1Name, c.S2Name }.Distinct().Count());
            Assert.Equal(c.IoToken, c.Ids[c.IoPosition]);
            Assert.Equal(c.SToken, c.Ids[c.S1Position]);
            Assert.Throws<InvalidOperationException>(() => c.AbcCorruption());
        }
    }

    [Fact]
    public void Orders_alternate_unless_one_is_asked_for_and_all_templates_are_used()
    {
        var dataset = new IoiDataset(Zoo);
        var mixed = dataset.Generate(200, seed: 3);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i % 2 == 0 ? IoiOrder.Abba : IoiOrder.Baba), mixed.Select(p => p.Order));
        Assert.Equal(Enumerable.Range(0, IoiDataset.Templates.Count), mixed.Select(p => p.TemplateId).Distinct().Order());
        Assert.All(dataset.Generate(20, seed: 3, IoiOrder.Baba), p => Assert.Equal(IoiOrder.Baba, p.Order));
        Assert.True(IoiDataset.Templates.Count >= 8);
    }

    [Fact]
    public void Names_places_and_objects_are_single_gpt2_tokens_after_a_space()
    {
        Assert.True(WordLists.Names.Count >= 20);
        Assert.Equal(WordLists.Names.Count, WordLists.Names.Distinct().Count());
        foreach (string word in WordLists.Names.Concat(WordLists.Places).Concat(WordLists.Objects))
            Assert.True(Gpt2.Encode(" " + word).Length == 1, $"' {word}' is several GPT-2 tokens");
        Assert.Equal(WordLists.Names, new IoiDataset(Gpt2).Names);
        Assert.Equal(WordLists.Names, new IoiDataset(Zoo).Names);
    }

    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void The_same_seed_gives_the_same_prompts_and_another_seed_others(string tokenizer)
    {
        var dataset = new IoiDataset(Get(tokenizer));
        string Texts(int seed) => string.Join("\n", dataset.Generate(50, seed).Select(p => p.Text + " | " + p.AbcCorruption().Text));
        Assert.Equal(Texts(7), Texts(7));
        Assert.NotEqual(Texts(7), Texts(8));
    }

    [Fact]
    public void Prompts_that_would_not_line_up_fail_clearly()
    {
        var dataset = new IoiDataset(Gpt2);
        var error = Assert.Throws<GlassboxException>(() =>
            dataset.Create(0, IoiOrder.Abba, "Mary", "John", "store", "drink", ("Alice", "Bob", "Bartholomew Featherstonehaugh")));
        Assert.Contains("same length", error.Message);
        Assert.Throws<ArgumentException>(() => dataset.Create(0, IoiOrder.Abba, "Mary", "John", "store", "drink", ("Alice", "Mary", "Kate")));
        Assert.Contains("single tokens", Assert.Throws<GlassboxException>(() => new IoiDataset(new WordLevelTokenizer(["When", "and"]))).Message);
    }
}
