using TorchSharp;
using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Probing;
using Glassbox.Tests.ModelZoo;
using Glassbox.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Glassbox.Tests.Probing;

public class SteeringTests(ITestOutputHelper output)
{
    static readonly long[] Plus = [4, 9, 2];
    static readonly long[] Minus = [11, 3];

    [Fact]
    public void ActAddFromAPromptAndItselfIsTheUnsteeredModelAtAnyCoefficient()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        using var vector = ActAdd.FromPromptPair(model, Plus, Plus, layer: 1, filler: 0);
        Assert.Equal(0.0, vector.Vector.abs().max().ToDouble());
        var tokens = TinyModels.Tokens(2, 8);
        Assert.True(model.Forward(tokens).equal(model.RunWithHooks(tokens, vector.Hook(8))).all().item<bool>());
    }

    [Fact]
    public void ActAddWithCoefficientZeroChangesNothingAndIsAffineInTheCoefficient()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        using var vector = ActAdd.FromPromptPair(model, Plus, Minus, layer: 1, filler: 0);
        Assert.Equal(new long[] { 3, 32 }, vector.Vector.shape);
        var tokens = TinyModels.Tokens(2, 8);
        Assert.True(model.Forward(tokens).equal(model.RunWithHooks(tokens, vector.Hook(0))).all().item<bool>());

        Tensor Resid(double c)
        {
            using var added = model.Hooks.Add(vector.Hook(c).Names, vector.Hook(c).Fn);
            var (_, cache) = model.RunWithCache(tokens, "blocks.1.hook_resid_pre");
            using (cache) return cache["resid_pre", 1].clone();
        }
        var (r0, r1, r3) = (Resid(0), Resid(1), Resid(3));
        Assert.True(((r3 - r0) - 3 * (r1 - r0)).abs().max().item<float>() < 1e-4);
        // Only the first k = 3 positions move.
        Assert.Equal(0f, (r1[.., 3..] - r0[.., 3..]).abs().max().item<float>());
        Assert.True((r1[.., ..3] - r0[.., ..3]).abs().max().item<float>() > 0.1f);
    }

    [Fact]
    public void ActAddDuringCachedGenerationMatchesUncachedGeneration()
    {
        using var model = TinyModels.Create("llama");
        using var vector = ActAdd.FromPromptPair(model, Plus, Minus, layer: 0, filler: 0);
        long[] Run(bool kv)
        {
            var (names, fn) = vector.Hook(4);
            using var _ = model.Hooks.Add(names, fn);
            return Generation.Generate(model, [5, 6, 7, 8], new GenerationOptions { MaxNewTokens = 6, StopToken = null, UseKvCache = kv });
        }
        // Uncached, every step re-runs the whole sequence from position 0: a fresh hook per step gives the reference.
        var reference = new List<long> { 5, 6, 7, 8 };
        for (int step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            var logits = model.RunWithHooks(tensor(reference.ToArray()).unsqueeze(0), vector.Hook(4));
            reference.Add(logits[0, -1].argmax().item<long>());
        }
        Assert.Equal(reference, Run(kv: true));
        Assert.NotEqual(Generation.Generate(model, [5, 6, 7, 8], new GenerationOptions { MaxNewTokens = 6, StopToken = null }), Run(kv: true));
    }

    [Fact]
    public void DirectionalAblationLeavesNoComponentAlongTheDirectionInAnyResidual()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        var direction = randn(32, generator: new Generator(9));
        var (names, fn) = DirectionalAblation.Hook(direction);
        using var _ = model.Hooks.Add(names, fn);
        var (_, cache) = model.RunWithCache(TinyModels.Tokens(2, 6), "blocks.*.hook_resid_*");
        using (cache)
        {
            var unit = direction / direction.norm();
            Assert.Equal(6, cache.Count);
            foreach (var name in cache.Names)
            {
                var x = cache[name];
                Assert.True((matmul(x, unit).abs() <= 1e-5 * x.norm(-1, false, 2)).all().item<bool>(), name);
            }
        }
    }

    /// <summary>Orthogonalised weights compute exactly what the ablation hook computes, on every architecture, with no hook.</summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("neox")]
    [InlineData("neox-sequential")]
    [InlineData("llama2c")]
    [InlineData("attn-only")]
    public void OrthogonalisedWeightsEqualTheAblationHook(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var direction = randn(model.Config.DModel, dtype: ScalarType.Float64, generator: new Generator(9));
        var tokens = TinyModels.Tokens(2, 6);
        var hooked = model.RunWithHooks(tokens, DirectionalAblation.Hook(direction));
        using var orthogonal = DirectionalAblation.Orthogonalize(model, direction);
        var (logits, cache) = orthogonal.RunWithCache(tokens, "blocks.*.hook_resid_post");
        using (cache)
        {
            Assert.True((logits - hooked).abs().max().item<double>() < 1e-10);
            Assert.True((logits - model.Forward(tokens)).abs().max().item<double>() > 1e-3, "the ablation must change the model");
            foreach (var name in cache.Names)
                Assert.True(matmul(cache[name], direction / direction.norm()).abs().max().item<double>() < 1e-10, name);
        }
        Assert.Throws<GlassboxException>(() => DirectionalAblation.Orthogonalize(model, zeros(model.Config.DModel, dtype: ScalarType.Float64)));
        Assert.Throws<GlassboxException>(() => DirectionalAblation.Orthogonalize(model, ones(3)));
    }

    /// <summary>
    /// ioi-gpt2-4l: the mean-difference direction between the residual streams of two names (A − B, layer 1, one token each)
    /// added at every position of IOI prompts raises logit(A) − logit(B) at the answer; coefficient 0 changes no logit.
    /// </summary>
    [Fact]
    public void SteeringTowardANameShiftsTheZooModelsAnswerAndZeroChangesNothing()
    {
        using var zoo = new ZooModel("ioi-gpt2-4l");
        var data = new IoiDataset(zoo.Tokenizer);
        var prompts = data.Generate(100, 4242);
        int a = zoo.Tokenizer.Encode(data.Names[0], addBos: false)[0];
        int b = zoo.Tokenizer.Encode(data.Names[1], addBos: false)[0];
        using var vector = MeanDifference.FromSets(zoo.Model, [[a]], [[b]], layer: 1);

        double[] Metric(double c)
        {
            using var scope = NewDisposeScope();
            return prompts.Select(p =>
            {
                var logits = zoo.Model.RunWithHooks(tensor(p.Ids.Select(i => (long)i).ToArray()).unsqueeze(0), vector.Hook(c))[0, p.EndPosition];
                return (double)(logits[a] - logits[b]).item<float>();
            }).ToArray();
        }
        var baseline = Metric(0);
        var steered = Metric(1);
        var shifts = steered.Zip(baseline, (s, x) => s - x).ToArray();
        double mean = shifts.Average();
        double sd = Math.Sqrt(baseline.Select(x => (x - baseline.Average()) * (x - baseline.Average())).Sum() / (baseline.Length - 1));
        output.WriteLine($"logit({data.Names[0]}) − logit({data.Names[1]}): baseline {baseline.Average():F3}, steered {steered.Average():F3}, " +
                         $"mean shift {mean:F3}, effect size {mean / sd:F2} baseline SDs, {shifts.Count(s => s > 0)}/{shifts.Length} prompts up");
        Assert.True(mean / sd > 1.0, $"effect size {mean / sd:F2}");
        Assert.True(shifts.Count(s => s > 0) >= 90);

        using var scope2 = NewDisposeScope();
        var tokens = tensor(prompts[0].Ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        Assert.True(zoo.Model.Forward(tokens).equal(zoo.Model.RunWithHooks(tokens, vector.Hook(0))).all().item<bool>());
    }
}
