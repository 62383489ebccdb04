using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Patching;

public class DirectLogitAttributionTests
{
    public static IEnumerable<object[]> Cases() =>
        from arch in TinyModels.Architectures from folded in new[] { false, true } select new object[] { arch, folded };

    static readonly MetricTarget[] Targets = [new(0, 8, [3], [17]), new(1, 5, [9], [2]), new(1, 8, [4, 5], [])];

    [Theory]
    [MemberData(nameof(Cases))]
    public void PartsPlusConstantEqualTheLogitDifference(string arch, bool folded)
    {
        using var raw = TinyModels.Create(arch);
        using var model = folded ? WeightProcessing.Process(raw) : null;
        var m = model ?? raw;
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 9);
        var dla = DirectLogitAttribution.Run(m, tokens, Targets);
        Assert.Equal(dla.Actual, dla.Total, 1e-4);
        Assert.True(Math.Abs(dla.Actual) > 0.05, $"a trivial target ({dla.Actual}) would make the check vacuous");

        // Finer splits add up to the coarser ones: heads × sources to heads, the final accumulated residual to all parts.
        var cfg = m.Config;
        for (int l = 0; l < cfg.NLayers; l++)
            for (int h = 0; h < cfg.NHeads; h++)
                Assert.Equal(dla.Heads[l, h], Enumerable.Range(0, dla.HeadSources.GetLength(1)).Sum(j => dla.HeadSources[l * cfg.NHeads + h, j]), 1e-5);
        Assert.Equal(dla.Total - dla.Constant, dla.Accumulated[^1], 1e-4);
    }

    /// <summary>
    /// Techniques §3.1: logit-difference DLAs do not change under folding and centring, and folding value biases only moves
    /// <c>b_V W_O</c> from the heads to <c>b_O</c>: every part is the same, and each layer's heads plus its b_O add to the same sum.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void FoldingAndCentringLeaveEveryPartAndFoldingValueBiasesMovesThemToTheOutputBias(string arch)
    {
        using var raw = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 9);
        MetricTarget[] differences = [new(0, 8, [3], [17]), new(1, 5, [9], [2])];
        var before = DirectLogitAttribution.Run(raw, tokens, differences);
        using (var folded = WeightProcessing.Process(raw, new ProcessingOptions { FoldValueBiases = false }))
        {
            var after = DirectLogitAttribution.Run(folded, tokens, differences);
            Assert.Equal(before.Parts.Select(p => p.Component), after.Parts.Select(p => p.Component));
            foreach (var (p, q) in before.Parts.Zip(after.Parts)) Assert.Equal(p.Value, q.Value, 9);
            Assert.Equal(before.Actual, after.Actual, 9);
        }
        using var all = WeightProcessing.Process(raw);
        var moved = DirectLogitAttribution.Run(all, tokens, differences);
        double Layer(DlaReport r, int l) => r.Parts.Where(p => p.Component.StartsWith($"L{l}H") || p.Component == $"L{l} b_O").Sum(p => p.Value);
        for (int l = 0; l < raw.Config.NLayers; l++) Assert.Equal(Layer(before, l), Layer(moved, l), 9);
        var movedParts = moved.Parts.ToDictionary(p => p.Component, p => p.Value);
        foreach (var (component, value) in before.Parts.Where(p => !p.Component.StartsWith('L') || p.Component.EndsWith("MLP")))
            Assert.Equal(value, movedParts[component], 9);
        Assert.Equal(before.Actual, moved.Actual, 9);
    }

    [Fact]
    public void NeuronsPlusOutputBiasEqualTheMlp()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 9);
        var dla = DirectLogitAttribution.Run(model, tokens, Targets);
        for (int l = 0; l < model.Config.NLayers; l++)
        {
            double neurons = Enumerable.Range(0, model.Config.DMlp).Sum(n => dla.Neurons[l, n]);
            Assert.Equal(dla.Mlps[l] - neurons, BiasTerm(model, tokens, l), 1e-9);
        }
    }

    static double BiasTerm(HookedTransformer model, Tensor tokens, int layer)
    {
        // b_out read along the run's frozen direction (γ ⊙ u, centred, over σ).
        var (_, cache) = model.RunWithCache(tokens, "ln_final.hook_scale");
        using (cache)
        {
            var (u, _) = DirectLogitAttribution.Readout(model, Targets);
            var g = u * model.LnFinal.W;
            g = g - g.mean(new long[] { -1 }, keepdim: true);
            var items = tensor(Targets.Select(t => (long)t.Item).ToArray());
            var positions = tensor(Targets.Select(t => (long)t.Position).ToArray());
            g = g / cache["ln_final.hook_scale"].index(items, positions);
            return (model.Blocks[layer].Mlp!.b_out! * g).sum(-1).mean().item<double>();
        }
    }
}
