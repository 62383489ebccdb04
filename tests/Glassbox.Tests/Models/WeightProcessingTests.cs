using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

public class WeightProcessingTests
{
    public static TheoryData<string, string> Steps()
    {
        var data = new TheoryData<string, string>();
        foreach (var arch in TinyModels.Architectures)
            foreach (var step in new[] { "fold-norms", "center-writers", "center-unembed", "fold-value-biases", "all" })
                data.Add(arch, step);
        return data;
    }

    static ProcessingOptions Only(string step) => step switch
    {
        "all" => new ProcessingOptions(),
        _ => new ProcessingOptions
        {
            FoldNorms = step == "fold-norms",
            CenterWriters = step == "center-writers",
            CenterUnembed = step == "center-unembed",
            FoldValueBiases = step == "fold-value-biases",
        },
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public void EachStepLeavesLogProbabilitiesUnchanged(string arch, string step)
    {
        using var model = TinyModels.Create(arch);
        using var processed = WeightProcessing.Process(model, Only(step));
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 10);
        var before = model.Forward(tokens).log_softmax(-1);
        var after = processed.Forward(tokens).log_softmax(-1);
        double diff = (before - after).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"{arch} {step}: max |Δ log p| = {diff}");
    }

    [Fact]
    public void FoldingNormsLeavesUnitWeightsAndNoBias()
    {
        using var model = TinyModels.Create("gpt2");
        using var processed = WeightProcessing.Process(model);
        Assert.Null(processed.Blocks[0].Ln1.B);
        Assert.True(processed.Blocks[1].Ln2!.W.equal(ones(32)).all().item<bool>());
        Assert.Null(processed.Blocks[0].Attn.b_V);
        // Centred writers: every row of W_E and every head's W_O rows have zero mean over d_model.
        Assert.True(processed.W_E.mean(new long[] { -1 }).abs().max().item<float>() < 1e-6);
        Assert.True(processed.Blocks[0].Attn.W_O.mean(new long[] { -1 }).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void CentredResidualEqualsTheOriginalTimesP()
    {
        using var model = TinyModels.Create("gpt2");
        using var processed = WeightProcessing.Process(model, new ProcessingOptions { FoldNorms = false, CenterUnembed = false, FoldValueBiases = false });
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 6);
        var (_, a) = model.RunWithCache(tokens, "blocks.1.hook_resid_post");
        var (_, b) = processed.RunWithCache(tokens, "blocks.1.hook_resid_post");
        using (a) using (b)
        {
            var x = a["resid_post", 1];
            Assert.True((x - x.mean(new long[] { -1 }, keepdim: true)).allclose(b["resid_post", 1], atol: 1e-5));
        }
    }
}
