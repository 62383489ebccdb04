using Glassbox.Models;
using Glassbox.Tests.Models;
using Glassbox.Tests.ModelZoo;
using Glassbox.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Weights;

/// <summary>The positional QK circuit of learned positions, N(W_pos) W_QK N(W_pos)ᵀ, and what it says about layer-0 heads.</summary>
public class PositionalQkTests(ITestOutputHelper output)
{
    [Fact]
    public void OnPositionsAloneItIsLayerZerosAttentionScore()
    {
        var cfg = TinyModels.Config("gpt2");
        using var weights = RandomInit.Create(cfg, 7, std: 0.3, biases: false);
        using var model = new HookedTransformer(cfg, weights, dtype: ScalarType.Float64);
        using (no_grad())
        {
            model.W_pos!.mul_(10); // LayerNorm's ε is then negligible next to the positions' variance
            model.Blocks[0].Ln1.W.copy_(rand(cfg.DModel, dtype: ScalarType.Float64, generator: new Generator(3)) + 0.5);
        }
        using var circuits = new HeadCircuits(model);
        using var scope = NewDisposeScope();
        const int n = 6;
        using var noTokens = model.Hooks.Add("hook_embed", (x, _) => zeros_like(x));
        var (_, cache) = model.RunWithCache(TinyModels.Tokens(1, n), "blocks.0.attn.hook_attn_scores");
        using (cache)
        {
            var causal = ones(n, n, dtype: ScalarType.Float64).tril();
            var expected = circuits.PositionalQK(0).Dense()[.., ..n, ..n] / Math.Sqrt(model.Config.DHead) * causal;
            var actual = cache["blocks.0.attn.hook_attn_scores"][0].nan_to_num(0, 0, 0) * causal;
            double error = (actual - expected).abs().max().ToDouble(), scale = expected.abs().max().ToDouble();
            output.WriteLine($"max |Δ| {error:E2} against scores up to {scale:F1}");
            Assert.True(error <= 1e-5 * scale, $"max |Δ| {error:E2} against scores up to {scale:E2}");
        }
    }

    [Fact]
    public void OnAttnOnly2LTheLayerZeroHeadsPeakAtTheOffsetsTheirCardGives()
    {
        using var zoo = new ZooModel("attn-only-2l");
        var grid = Glassbox.Weights.WeightsOverview.PositionalOffsetGrid(zoo.Model);
        int Peak(int head) => Enumerable.Range(0, grid.Columns).MaxBy(d => grid.Values[head, d]);
        for (int h = 0; h < 4; h++) output.WriteLine($"L0H{h}: " + string.Join(" ", Enumerable.Range(0, grid.Columns).Select(d => grid.Values[h, d].ToString("F1"))));
        // Card: L0H0 and L0H2 previous-token, L0H1 current-token, L0H3 diffuse with A[i, i−2] = 0.21.
        Assert.Equal(1, Peak(0));
        Assert.Equal(1, Peak(2));
        Assert.Equal(0, Peak(1));
        Assert.Equal(2, Peak(3));
    }
}
