using Glassbox.Lens;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Lens;

public class PatchscopeTests
{
    static readonly long[] Source = [3, 14, 15, 9, 26, 5];
    static readonly long[] Target = [7, 1, 8, 2, 8, 18, 28];

    [Fact]
    public void PatchingAPromptIntoItselfAtTheSameSiteChangesNothing()
    {
        using var model = TinyModels.Create("gpt2");
        var report = Patchscope.Run(model, Source, Source, new PatchscopeOptions { SourceLayer = 1, SourcePosition = 3, TargetPosition = 3, MaxNewTokens = 4 });
        Assert.Equal(report.BaselineTopTokens, report.TopTokens);
        Assert.Equal(report.BaselineTopProbabilities, report.TopProbabilities);
        var unpatched = Glassbox.Models.Generation.Generate(model, Source[..4], new() { MaxNewTokens = 4, StopToken = null })[4..];
        Assert.Equal(unpatched, report.Generated);
    }

    [Fact]
    public void PatchingIntoTheFinalResidualReadsTheLogitLensOfTheSourceState()
    {
        using var model = TinyModels.Create("llama");
        using var scope = NewDisposeScope();
        var report = Patchscope.Run(model, Source, Target, new PatchscopeOptions { SourceLayer = 1, SourcePosition = 2, TargetLayer = 2, TopK = 4 });
        var (_, cache) = model.RunWithCache(tensor(Source).unsqueeze(0), "blocks.1.hook_resid_pre");
        using (cache)
        {
            var lens = LogitLens.Decode(model, cache["resid_pre", 1][0, 2]).softmax(-1);
            var (values, indices) = lens.topk(4);
            Assert.Equal(indices.data<long>().Select(x => (int)x), report.TopTokens);
            // float32 through different kernels (a batched run vs one row): equal to rounding, not bit for bit.
            var expected = values.to(ScalarType.Float64).data<double>().ToArray();
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], report.TopProbabilities[k], 6);
        }
        Assert.NotEqual(report.BaselineTopTokens, report.TopTokens);
    }

    [Fact]
    public void TheMappingIsApplied()
    {
        using var model = TinyModels.Create("gpt2");
        var identity = Patchscope.Run(model, Source, Target, new PatchscopeOptions { SourceLayer = 1 });
        var scaled = Patchscope.Run(model, Source, Target, new PatchscopeOptions { SourceLayer = 1, Mapping = h => h * 3 });
        Assert.NotEqual(identity.TopProbabilities, scaled.TopProbabilities);
        Assert.Throws<GlassboxException>(() => Patchscope.Run(model, Source, Target, new PatchscopeOptions { SourceLayer = 2 }));
    }

    /// <summary>
    /// Sweeping a prompt into itself: every diagonal cell patches a state into its own place, so it is the model's own
    /// probability; the final column writes x^l_i as the last residual, so it is the logit lens of x^l_i.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void ASweepOfAPromptIntoItselfHasTheModelOnTheDiagonalAndTheLogitLensInTheLastColumn(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        const long token = 11;
        var sweep = PatchscopeSweep.Run(model, Source, Source, token, sourcePosition: 3, targetPosition: 3);
        int L = model.Config.NLayers;
        Assert.Equal((L, L + 1), (sweep.Probability.GetLength(0), sweep.Probability.GetLength(1)));
        double own = model.Forward(tensor(Source).unsqueeze(0))[0, 3].softmax(-1)[token].item<double>();
        var (_, cache) = model.RunWithCache(tensor(Source).unsqueeze(0), "blocks.*.hook_resid_pre");
        using (cache)
            for (int l = 0; l < L; l++)
            {
                Assert.Equal(own, sweep.Probability[l, l], 12);
                Assert.Equal(LogitLens.Decode(model, cache["resid_pre", l][0, 3]).softmax(-1)[token].item<double>(), sweep.Probability[l, L], 12);
            }
        Assert.NotEqual(sweep.Probability[0, 1], sweep.Probability[0, 0]);
        Assert.Throws<GlassboxException>(() => PatchscopeSweep.Run(model, Source, Source, model.Config.VocabSize));
    }
}
