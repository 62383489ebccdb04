using Glassbox.Attribution;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Attribution;

public class GradientMethodTests
{
    static readonly long[] Context = [3, 17, 5, 42, 8, 11, 29];

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void EmbeddingGradientsMatchCentralFiniteDifferences(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var target = new AttributionTarget(9, TargetKind.LogProbability);
        var e = EmbeddingGradients.Embeddings(model, Context);
        var (_, grad) = EmbeddingGradients.At(model, Context, target, e.unsqueeze(0), MemoryBudget.Default);
        const double h = 1e-5;
        var rng = new Random(1);
        var points = new List<Tensor>();
        var coordinates = Enumerable.Range(0, 12).Select(_ => (rng.Next(Context.Length), rng.Next((int)e.shape[1]))).ToList();
        foreach (var (i, k) in coordinates)
            foreach (var sign in new[] { 1.0, -1.0 })
            {
                var p = e.clone();
                p[i, k] += sign * h;
                points.Add(p);
            }
        var values = EmbeddingGradients.ValuesAt(model, Context, target, stack(points), MemoryBudget.Default).data<double>().ToArray();
        for (int c = 0; c < coordinates.Count; c++)
        {
            var (i, k) = coordinates[c];
            double numeric = (values[2 * c] - values[2 * c + 1]) / (2 * h), analytic = grad[0, i, k].item<double>();
            Assert.True(Math.Abs(numeric - analytic) <= 1e-7 * Math.Max(1, Math.Abs(analytic)), $"({i}, {k}): {analytic} vs {numeric}");
        }
    }

    /// <summary>
    /// Techniques §2.1–2.2 on a model made linear in its embeddings (attention-only, every norm scale and attention pattern frozen
    /// at the clean run's): gradient × input satisfies Euler's identity, Σ_i A_i = T(e) − T(0), and integrated gradients
    /// equals gradient × input wherever the baseline is zero, with no completeness error at a handful of steps.
    /// </summary>
    [Fact]
    public void OnALinearisedModelGradientTimesInputIsEulerAndIntegratedGradientsEqualsIt()
    {
        using var model = TinyModels.Create("attn-only", ScalarType.Float64);
        using var scope = NewDisposeScope();
        var frozenNames = "ln_final.hook_scale,blocks.*.ln1.hook_scale,blocks.*.attn.hook_pattern";
        var (_, clean) = model.RunWithCache(tensor(Context).unsqueeze(0), frozenNames);
        using var frozen = model.Hooks.Add(frozenNames, (x, point) => clean[point.Name].expand_as(x).contiguous());
        var target = new AttributionTarget(9, TargetKind.Logit);
        double T(bool zeroEmbedding) => target.Evaluate(zeroEmbedding
            ? model.RunWithHooks(tensor(Context).unsqueeze(0), ("hook_embed", (e, _) => zeros_like(e)))
            : model.Forward(tensor(Context).unsqueeze(0))).item<double>();
        var ixg = new InputXGradient().Attribute(model, Context, target).Scores;
        Assert.Equal(T(false) - T(true), ixg.Sum(), 9);
        var ig = new IntegratedGradients { Steps = 4, BaselineToken = null }.Attribute(model, Context, target);
        Assert.True(ig.CompletenessError < 1e-9, $"completeness error {ig.CompletenessError}");
        for (int i = 1; i < Context.Length; i++) Assert.Equal(ixg[i], ig.Scores[i], 9);
        clean.Dispose();
    }

    [Theory]
    [InlineData("gpt2", IntegrationRule.GaussLegendre, 1e-6)]
    [InlineData("llama", IntegrationRule.GradedGaussLegendre, 1e-2)]
    [InlineData("gpt2", IntegrationRule.Trapezoid, 1e-2)]
    public void IntegratedGradientsAreCompleteWith64Steps(string arch, IntegrationRule rule, double tolerance)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        // The tiny Llama has no BOS to fall back on; a zero baseline would zero its whole residual stream.
        var ig = new IntegratedGradients { Steps = 64, Rule = rule, Budget = new MemoryBudget(1 << 20), BaselineToken = arch == "llama" ? 1 : null };
        var result = ig.Attribute(model, Context, new AttributionTarget(9, TargetKind.LogProbability));
        Assert.True(result.CompletenessError < tolerance, $"completeness error {result.CompletenessError}");
    }

    [Fact]
    public void QuadratureRulesIntegratePolynomials()
    {
        foreach (var rule in Enum.GetValues<IntegrationRule>())
        {
            var (alphas, weights) = Quadrature.Rule(rule, 64);
            Assert.Equal(1.0, weights.Sum(), 12);
            double cubic = alphas.Zip(weights, (a, w) => w * a * a * a).Sum();
            Assert.True(Math.Abs(cubic - 0.25) < (rule is IntegrationRule.GaussLegendre or IntegrationRule.GradedGaussLegendre ? 1e-12 : 0.02), $"{rule}: {cubic}");
        }
    }

    [Fact]
    public void ContrastiveAttributionIsTheDifferenceForLinearMethods()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        long w = 9, o = 21;
        IAttributionMethod[] methods =
        [
            new InputXGradient(), new IntegratedGradients { Steps = 16 }, new Occlusion(),
            new Occlusion { Mode = OcclusionMode.Remove, Span = 2 }, new AltiLogit(), new AltiLogit { IncludeMlpAndEmbedding = true },
        ];
        foreach (var method in methods)
            foreach (var kind in method is AltiLogit ? [TargetKind.Logit] : new[] { TargetKind.Logit, TargetKind.LogProbability })
            {
                var contrast = method.Attribute(model, Context, new AttributionTarget(w, kind, o)).Scores;
                var target = method.Attribute(model, Context, new AttributionTarget(w, kind)).Scores;
                var foil = method.Attribute(model, Context, new AttributionTarget(o, kind)).Scores;
                for (int j = 0; j < Context.Length; j++) Assert.Equal(target[j] - foil[j], contrast[j], 9);
            }
    }

    [Fact]
    public void SmoothGradWithoutNoiseIsSaliencyAndASeedReproducesIt()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        var target = new AttributionTarget(9);
        var saliency = new Saliency().Attribute(model, Context, target).Scores;
        var quiet = new SmoothGrad { Samples = 3, NoiseLevel = 0 }.Attribute(model, Context, target).Scores;
        for (int j = 0; j < Context.Length; j++) Assert.Equal(saliency[j], quiet[j], 10);
        var a = new SmoothGrad { Samples = 5, Seed = 4 }.Attribute(model, Context, target).Scores;
        var b = new SmoothGrad { Samples = 5, Seed = 4 }.Attribute(model, Context, target).Scores;
        Assert.Equal(a, b);
        Assert.NotEqual(saliency, a);
    }
}
