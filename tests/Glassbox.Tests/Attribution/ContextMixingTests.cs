using Glassbox.Attribution;
using Glassbox.Models;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Attribution;

public class ContextMixingTests
{
    static readonly long[] Context = [3, 17, 5, 42, 8, 11, 29, 17, 5];

    public static TheoryData<string> Archs => new(TinyModels.Architectures);

    [Theory]
    [MemberData(nameof(Archs))]
    public void TheSourceTermsSumToTheAttentionOutputAndTheResidual(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var d = AttentionDecomposition.Run(model, Context);
        for (int l = 0; l < d.Layers; l++)
        {
            var bO = model.Blocks[l].Attn.b_O ?? zeros(model.Config.DModel, dtype: ScalarType.Float64);
            var heads = d.HeadTerms(l, 0, Context.Length).sum([1, 2]) + bO;
            Assert.True(heads.allclose(d.AttnOut(l), rtol: 0, atol: 1e-10), $"layer {l}: Σ_j Σ_h terms + b_O ≠ attn_out");
            // A chunk in the middle exercises the shifted diagonal.
            var residual = d.ResidualTerms(l, 3, 4).sum([1]) + bO;
            Assert.True(residual.allclose(d.ResidMid(l).narrow(0, 3, 4), rtol: 0, atol: 1e-10), $"layer {l}: Σ_j T_i(x_j) + b_O ≠ x^mid");
        }
    }

    /// <summary>Techniques §2.9: when every head attends only to its own position, nothing mixes — ALTI's matrices are the identity.</summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AnIdentityAttentionPatternGivesIdentityAltiMatrices(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var selfOnly = model.Hooks.Add("blocks.*.attn.hook_pattern", (p, _) => eye(p.shape[^1], dtype: p.dtype).expand_as(p).contiguous());
        using var d = AttentionDecomposition.Run(model, Context);
        var identity = eye(Context.Length, dtype: ScalarType.Float64);
        foreach (var c in Alti.Contributions(d))
            Assert.True(c.to(ScalarType.Float64).allclose(identity, rtol: 0, atol: 1e-12), "an ALTI matrix is not the identity");
        var scores = new Alti().Attribute(model, Context, new AttributionTarget(5)).Scores;
        Assert.Equal(1.0, scores[^1], 12);
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void MixingMatricesAndRolloutsAreRowStochastic(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var d = AttentionDecomposition.Run(model, Context);
        var valueZeroing = new ValueZeroing { Budget = new MemoryBudget(1 << 16) };
        using var cache = model.RunWithCache(tensor(Context).unsqueeze(0), "blocks.*.hook_resid_pre,blocks.*.hook_resid_post").Cache;
        var families = new Dictionary<string, List<Tensor>>
        {
            ["rollout"] = AttentionRollout.MixingMatrices(model, Context),
            ["alti"] = Alti.Contributions(d),
            ["globenc"] = NormBased.Matrices(d, residual: true).Select(LayerMixing.RowNormalise).ToList(),
            ["value_zeroing"] = Enumerable.Range(0, d.Layers)
                .Select(l => LayerMixing.RowNormalise(valueZeroing.Scores(model, l, cache["resid_pre", l][0], cache["resid_post", l][0]))).ToList(),
        };
        foreach (var (name, layers) in families)
        {
            foreach (var c in layers)
            {
                Assert.True(c.min().item<double>() >= 0, $"{name}: a negative entry");
                Assert.True(c.sum(-1).allclose(ones(Context.Length, dtype: ScalarType.Float64), rtol: 0, atol: 1e-12), $"{name}: rows do not sum to 1");
                Assert.Equal(0.0, c.triu(1).abs().max().item<double>());
            }
            var rolled = LayerMixing.Rollout(layers);
            Assert.Equal(1.0, rolled.Scores.Sum(), 12);
            Assert.All(rolled.Scores, s => Assert.True(s >= 0));
            for (int l = 0; l < layers.Count; l++)
                Assert.Equal(1.0, Enumerable.Range(0, Context.Length).Sum(j => rolled.PerLayer![l, j]), 12);
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("attn-only")]
    public void AltiLogitSumsToTheAttentionLogitsAndWithTheExtensionToTheLogitMinusConstants(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var target = new AttributionTarget(9, TargetKind.Logit, foil: 21);
        using var d = AttentionDecomposition.Run(model, Context);
        int t = Context.Length - 1;
        var u = d.LogitDirection(t, 9, 21);
        double attention = 0, biases = 0;
        for (int l = 0; l < d.Layers; l++)
        {
            var bO = model.Blocks[l].Attn.b_O;
            attention += d.AttnOut(l)[t].dot(u).item<double>() - (bO is null ? 0 : bO.dot(u).item<double>());
            biases += bO is null ? 0 : bO.dot(u).item<double>();
        }
        var plain = new AltiLogit().Attribute(model, Context, target);
        Assert.Equal(attention, plain.Scores.Sum(), 9);
        var full = new AltiLogit { IncludeMlpAndEmbedding = true }.Attribute(model, Context, target);
        Assert.Equal(full.TargetValue!.Value - d.LogitConstant(9, 21) - biases, full.Scores.Sum(), 9);
        Assert.Throws<GlassboxException>(() => new AltiLogit().Attribute(model, Context, new AttributionTarget(9, TargetKind.Probability)));
    }

    [Fact]
    public void ValueZeroingEqualsAManualHookThatZeroesTheToken()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = tensor(Context).unsqueeze(0);
        using var cache = model.RunWithCache(tokens, "blocks.*.hook_resid_pre,blocks.*.hook_resid_post").Cache;
        var method = new ValueZeroing { Budget = new MemoryBudget(1 << 16) };
        for (int layer = 0; layer < model.Config.NLayers; layer++)
        {
            var scores = method.Scores(model, layer, cache["resid_pre", layer][0], cache["resid_post", layer][0]);
            foreach (int j in new[] { 0, 4, Context.Length - 1 })
            {
                var (_, zeroed) = RunZeroing(model, tokens, layer, j);
                using (zeroed)
                {
                    var manual = 1 - nn.functional.cosine_similarity(zeroed[HookName(layer)][0], cache["resid_post", layer][0], dim: -1);
                    for (int i = j; i < Context.Length; i++) Assert.Equal(manual[i].item<double>(), scores[i, j].item<double>(), 12);
                }
            }
        }
    }

    static string HookName(int layer) => $"blocks.{layer}.hook_resid_post";

    static (Tensor, Glassbox.Hooks.ActivationCache) RunZeroing(HookedTransformer model, Tensor tokens, int layer, int j)
    {
        using var hook = model.Hooks.Add($"blocks.{layer}.attn.hook_v", (v, _) => { var y = v.clone(); y[.., j] = 0; return y; });
        return model.RunWithCache(tokens, HookName(layer));
    }

    [Fact]
    public void AttentionFlowOfOneLayerIsTheMixingRowAndIsBoundedOtherwise()
    {
        var cfg = TinyModels.Config("gpt2") with { NLayers = 1 };
        using var weights = TinyModels.Weights(cfg);
        using var oneLayer = new HookedTransformer(cfg, weights, dtype: ScalarType.Float64);
        using var scope = NewDisposeScope();
        var flow = new AttentionFlow().Attribute(oneLayer, Context, new AttributionTarget(0)).Scores;
        var mixing = AttentionRollout.MixingMatrices(oneLayer, Context)[0][-1];
        for (int j = 0; j < Context.Length; j++) Assert.Equal(mixing[j].item<double>(), flow[j], 12);

        using var twoLayers = TinyModels.Create("gpt2", ScalarType.Float64);
        var deep = new AttentionFlow().Attribute(twoLayers, Context, new AttributionTarget(0)).Scores;
        Assert.All(deep, a => Assert.InRange(a, 0, 1 + 1e-12));
        var rollout = new AttentionRollout().Attribute(twoLayers, Context, new AttributionTarget(0)).Scores;
        for (int j = 0; j < Context.Length; j++) Assert.True(deep[j] >= rollout[j] - 1e-12, "a flow is at least the rollout's path mass");
    }
}
