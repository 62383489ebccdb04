using Glassbox.Datasets;
using static Glassbox.Tests.Datasets.DatasetTokenizers;

namespace Glassbox.Tests.Datasets;

public class InductionDatasetTests
{
    [Theory]
    [InlineData("zoo")]
    [InlineData("gpt2")]
    public void The_second_half_repeats_the_first_after_a_bos(string tokenizer)
    {
        var tok = Get(tokenizer);
        var dataset = new InductionDataset(tok, halfLength: 20);
        Assert.Equal((1, 21, 41), (dataset.FirstHalfStart, dataset.SecondHalfStart, dataset.SequenceLength));
        var batch = dataset.Generate(16, seed: 1);
        Assert.Equal(16, batch.Length);
        foreach (var sequence in batch)
        {
            Assert.Equal(41, sequence.Length);
            Assert.Equal(tok.BosId, (int)sequence[0]);
            Assert.Equal(sequence[1..21], sequence[21..41]);
            Assert.DoesNotContain(sequence[1..], id => id == tok.BosId || id == tok.EosId);
        }
    }

    [Fact]
    public void Zoo_tokens_exclude_every_special_token()
    {
        var ids = new InductionDataset(Zoo).TokenIds;
        Assert.Equal(ZooVocabulary.Words.Count - ZooVocabulary.SpecialTokens.Count, ids.Count);
        Assert.DoesNotContain(ids, id => ZooVocabulary.SpecialTokens.Contains(Zoo.TokenText(id)));
        Assert.Equal(50256, new InductionDataset(Gpt2).TokenIds.Count);
    }

    [Fact]
    public void Tokens_come_from_the_given_ids_and_bos_can_be_left_out()
    {
        var dataset = new InductionDataset(Gpt2, halfLength: 5, tokenIds: Enumerable.Range(1000, 10), prependBos: false);
        Assert.Equal((0, 5, 10), (dataset.FirstHalfStart, dataset.SecondHalfStart, dataset.SequenceLength));
        Assert.All(dataset.Generate(8, seed: 2).SelectMany(s => s), id => Assert.InRange(id, 1000, 1009));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InductionDataset(Zoo, tokenIds: [ZooVocabulary.Words.Count]));
        Assert.Throws<ArgumentException>(() => new InductionDataset(Zoo, tokenIds: []));
    }

    [Fact]
    public void The_same_seed_gives_the_same_batch_and_another_seed_another()
    {
        var dataset = new InductionDataset(Zoo);
        Assert.Equal(dataset.Generate(4, 7), dataset.Generate(4, 7));
        Assert.NotEqual(dataset.Generate(4, 7), dataset.Generate(4, 8));
    }
}
