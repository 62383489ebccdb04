using Glassbox.Attribution;
using Glassbox.Loading;
using Glassbox.Tests.ModelZoo;
using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

/// <summary>Words from subword tokens, read from each tokenizer's own decoding, and attribution summed over them.</summary>
public class WordSpansTests
{
    static (int[] Words, string[] Labels) Split(ITokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text).Select(i => (long)i).ToArray();
        var words = WordSpans.Of(tokenizer, ids);
        return (words, WordSpans.Labels(tokenizer, ids, words));
    }

    [Fact]
    public void Gpt2ByteLevelPiecesJoinIntoTheirWords()
    {
        var tokenizer = new Gpt2Tokenizer();
        var (words, labels) = Split(tokenizer, "Interpretability of transformers is fascinating.");
        Assert.True(words.Length > labels.Length, "the sentence has multi-token words");
        Assert.Equal(["Interpretability", "of", "transformers", "is", "fascinating."], labels);
    }

    [SharedFact]
    public void SentencePieceWordsIncludeTheSpecialTokenAsItsOwnWord()
    {
        using var model = ModelLoader.Load(SharedModels.Stories260K);
        var tokenizer = ModelLoader.FindTokenizer(SharedModels.Stories260K, model.Config, SharedModels.Stories260KTokenizer)!;
        var (words, labels) = Split(tokenizer, "Once upon a time there was a little girl");
        Assert.Equal(["<s>", "Once", "upon", "a", "time", "there", "was", "a", "little", "girl"], labels);
        Assert.True(words.Length > labels.Length, $"{words.Length} tokens");
    }

    [Fact]
    public void AWordLevelVocabularyIsOneWordPerTokenAndAggregationIsTheIdentity()
    {
        using var zoo = new ZooModel("ioi-gpt2-4l");
        var ids = zoo.Tokenizer.Encode("When Mary and John went to the store , John gave a drink to").Select(i => (long)i).ToArray();
        var words = WordSpans.Of(zoo.Tokenizer, ids);
        Assert.Equal(Enumerable.Range(0, ids.Length), words);
        var result = Attributor.Run(zoo.Model, new InputXGradient(), ids, [zoo.Tokenizer.Encode("Mary", addBos: false)[0]], new AttributionTarget(0));
        var aggregated = result.AggregateWords(zoo.Tokenizer, ids);
        Assert.Equal(result.Steps[0].Scores, aggregated.Steps[0].Scores);
        var error = Assert.Throws<GlassboxException>(() => result.AggregateSources(words.Select(w => w + 1).ToArray(), ["x"]));
        Assert.Contains("Spans must number the", error.Message);
    }

    [SharedFact]
    public void TheCliAggregatesWordsWithAFlag()
    {
        var (exit, stdout, stderr) = Cli.CliHarness.Run("attribute", "--model", SharedModels.Stories260K, "--tokenizer", SharedModels.Stories260KTokenizer,
            "--method", "input_x_gradient", "--prompt", "Once upon a time there was a little girl", "--words", "--format", "json");
        Assert.True(exit == 0, stderr);
        var sources = System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("sources").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Equal("girl", sources[^1]!.Split(':')[1]);
        Assert.Equal(10, sources.Length);
    }

    [SharedFact]
    public void SummingSubwordsKeepsEveryRowsTotalForIntegratedGradientsAndAlti()
    {
        using var model = ModelLoader.Load(SharedModels.Stories260K);
        var tokenizer = ModelLoader.FindTokenizer(SharedModels.Stories260K, model.Config, SharedModels.Stories260KTokenizer)!;
        var prompt = tokenizer.Encode("Once upon a time, there was a little girl named Lily").Select(i => (long)i).ToArray();
        var continuation = Glassbox.Models.Generation.Generate(model, prompt, new() { MaxNewTokens = 2, StopToken = null })[prompt.Length..];
        long[] all = [.. prompt, .. continuation];
        foreach (IAttributionMethod method in new IAttributionMethod[] { new IntegratedGradients { Steps = 16 }, new Alti() })
        {
            var result = Attributor.Run(model, method, prompt, continuation, new AttributionTarget(0));
            var byWord = result.AggregateWords(tokenizer, all);
            Assert.Contains("10:girl", byWord.Sources); // ▁g + ir + l
            Assert.True(byWord.Sources.Count < result.Sources.Count);
            for (int k = 0; k < result.Steps.Count; k++)
            {
                Assert.Equal(result.Steps[k].Scores.Sum(), byWord.Steps[k].Scores.Sum(), 12);
                Assert.Equal(result.Steps[k].CompletenessError, byWord.Steps[k].CompletenessError);
                if (result.Steps[k].PerLayer is { } grid)
                    for (int l = 0; l < grid.GetLength(0); l++)
                        Assert.Equal(Enumerable.Range(0, grid.GetLength(1)).Sum(j => grid[l, j]),
                            Enumerable.Range(0, byWord.Steps[k].PerLayer!.GetLength(1)).Sum(j => byWord.Steps[k].PerLayer![l, j]), 12);
            }
        }
    }
}
