using Glassbox.Datasets;
using Glassbox.Tokenization;
using static Glassbox.Tests.Datasets.DatasetTokenizers;

namespace Glassbox.Tests.Datasets;

public class ZooVocabularyTests
{
    [Fact]
    public void Special_tokens_come_first_then_the_words_sorted()
    {
        var words = ZooVocabulary.Words;
        Assert.Equal(["<pad>", "<unk>", "<bos>", "<eos>"], words.Take(4));
        Assert.Equal(words.Skip(4).Order(StringComparer.Ordinal), words.Skip(4));
        Assert.Equal(words.Count, words.Distinct().Count());
        Assert.InRange(words.Count, 200, 399);
        Assert.All(Enumerable.Range(0, 100), yy => Assert.Contains($"{yy:00}", words));
        Assert.Contains("17", words);
        Assert.Contains(",", words);
    }

    [Fact]
    public void The_tokenizer_covers_the_words_and_round_trips_through_its_file()
    {
        Assert.Equal(ZooVocabulary.Words, Enumerable.Range(0, Zoo.VocabSize).Select(Zoo.TokenText));
        Assert.Equal(((int?)2, (int?)3, true, WordLevelPreTokenizer.WhitespaceSplit), (Zoo.BosId, Zoo.EosId, Zoo.AddsBos, Zoo.PreTokenizer));
        Assert.Equal("Mary went to the store .", Zoo.Decode(Zoo.Encode("<pad> Mary went to the store . <eos>")));

        using var dir = new TempDirectory();
        Zoo.Save(dir.File("tokenizer.json"));
        var loaded = TokenizerLoader.Load(dir.File("tokenizer.json"));
        Assert.Equal((Zoo.VocabSize, Zoo.BosId, Zoo.EosId, Zoo.AddsBos), (loaded.VocabSize, loaded.BosId, loaded.EosId, loaded.AddsBos));
        Assert.Equal(Zoo.Encode("When Mary and John went to the store ,"), loaded.Encode("When Mary and John went to the store ,"));
    }

    [Fact]
    public void Every_word_the_generators_write_is_in_the_vocabulary_and_every_word_is_written()
    {
        var ioi = new IoiDataset(Zoo).Generate(1000, seed: 11);
        var greaterThan = new GreaterThanDataset(Zoo).Generate(1000, seed: 12);
        var texts = ioi.SelectMany(p => new[] { p.Text, p.AbcCorruption().Text })
            .Concat(greaterThan.SelectMany(p => new[] { p.Text, p.Corruption01().Text }))
            .Concat(new StoryGrammar().Generate(1000, seed: 13))
            .ToList();
        int unk = Zoo.TokenToId(ZooVocabulary.Unk)!.Value;
        foreach (string text in texts)
            Assert.False(Zoo.Encode(text).Contains(unk), $"unknown word in \"{text}\"");

        // Exactly these words: all are written except the years 00 and 99, which are only answers.
        var written = texts.SelectMany(text => text.Split(' ')).ToHashSet();
        Assert.Equal(["00", "99"], ZooVocabulary.Words.Skip(4).Where(word => !written.Contains(word)));
    }
}
