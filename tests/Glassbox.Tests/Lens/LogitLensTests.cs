using Glassbox.Lens;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Lens;

public class LogitLensTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("neox")]
    public void OutputRowIsTheModelsOwnDistributionExactly(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 10);
        var logits = model.Forward(tokens);
        var (_, cache) = model.RunWithCache(tokens, "blocks.1.hook_resid_post");
        using (cache) Assert.True(logits.equal(LogitLens.Decode(model, cache["resid_post", 1])).all().item<bool>());

        var report = LogitLens.Run(model, tokens, new LensOptions { TopK = 3 });
        Assert.Equal(model.Config.NLayers + 1, report.Rows.Count);
        var probs = logits[0].to(ScalarType.Float64).log_softmax(-1).exp(); // the report works in log space
        for (int i = 0; i < 10; i++)
        {
            var cell = report[report.Rows.Count - 1, i];
            Assert.Equal(0.0, cell.KlToFinal);
            var (values, indices) = probs[i].topk(3);
            Assert.Equal(indices.data<long>().Select(x => (int)x), cell.TopTokens);
            Assert.Equal(values.data<double>().ToArray(), cell.TopProbabilities);
        }
        // Earlier layers of a random model do not already predict the output.
        Assert.True(report[0, 5].KlToFinal > 1e-3);
    }

    [Fact]
    public void TargetProbabilityRankAndEntropyMatchTheDistribution()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 6);
        var probs = model.Forward(tokens)[0, -1].to(ScalarType.Float64).softmax(-1);
        var order = probs.argsort(descending: true).data<long>().ToArray();
        int third = (int)order[2];
        var report = LogitLens.Run(model, tokens, new LensOptions { Target = third });
        var cell = report[report.Rows.Count - 1, 5];
        Assert.Equal(3, cell.TargetRank);
        Assert.Equal(probs[third].item<double>(), cell.TargetProbability!.Value, 12);
        Assert.Equal((-(probs * probs.log()).sum()).item<double>(), cell.Entropy, 9);
        Assert.Equal(3, report.Heatmaps.Count);
        Assert.Contains("p('", report.Heatmaps[1].Title);
    }

    [Theory]
    [InlineData("gpt2", 7)]
    [InlineData("attn-only", 5)]
    public void ComponentsAddEachBlocksWrites(string arch, int rows)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 4);
        var report = LogitLens.Run(model, tokens, new LensOptions { Components = true });
        Assert.Equal(rows, report.Rows.Count);
        Assert.Equal("attn_out 0", report.Rows[1]);
        var (_, cache) = model.RunWithCache(tokens, "blocks.0.hook_attn_out");
        using (cache)
        {
            var expected = LogitLens.Decode(model, cache["attn_out", 0][0, 2]).to(ScalarType.Float64).softmax(-1).max().item<double>();
            Assert.Equal(expected, report[1, 2].TopProbabilities[0], 6); // one vector vs the batched matmul: float32 rounding
        }
    }

    [Fact]
    public void ABatchOfPromptsIsAClearError()
    {
        using var model = TinyModels.Create("gpt2");
        var e = Assert.Throws<GlassboxException>(() => LogitLens.Run(model, TinyModels.Tokens(2, 4)));
        Assert.Contains("one prompt at a time", e.Message);
    }
}
