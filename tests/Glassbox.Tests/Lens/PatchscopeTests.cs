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
}
