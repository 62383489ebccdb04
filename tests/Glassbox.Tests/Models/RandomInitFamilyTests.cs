using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tests.Families;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

/// <summary>RandomInit on every reference family's config: the weights the loader would produce, and a model that runs.</summary>
public class RandomInitFamilyTests
{
    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void RandomWeightsHaveTheLoadersNamesAndShapesAndRun(string family)
    {
        var (cfg, loaded) = ModelLoader.LoadWeights(HfReferences.Dir(family));
        using (loaded)
        using (var random = RandomInit.Create(cfg, seed: 7, biases: false))
        {
            // Without linear biases RandomInit writes the checkpoint's tensors less some biases (and zero LayerNorm biases where
            // the checkpoint's LayerNorm has none, OLMo's: the same function).
            foreach (var name in random.Names)
            {
                if (!loaded.Contains(name))
                {
                    Assert.True(name.EndsWith(".b") && random[name].count_nonzero().item<long>() == 0, $"{family}: RandomInit wrote '{name}', which the loader does not");
                    continue;
                }
                Assert.Equal(loaded[name].shape, random[name].shape);
            }
            var missing = loaded.Names.Where(n => !random.Contains(n)).ToArray();
            Assert.All(missing, n => Assert.True(n.Contains(".b_") || n.EndsWith(".b"), $"{family}: RandomInit lacks '{n}'"));

            using var model = new HookedTransformer(cfg, random);
            using var scope = NewDisposeScope();
            var tokens = randint(0, cfg.VocabSize, [2, 9], generator: new Generator(3));
            var logits = model.Forward(tokens);
            Assert.Equal(new long[] { 2, 9, cfg.VocabSize }, logits.shape);
            Assert.True(logits.isfinite().all().item<bool>());
            Assert.True(logits.std().item<float>() > 0);
        }
    }

    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void RandomWeightsWithBiasesStillBuild(string family)
    {
        var (cfg, loaded) = ModelLoader.LoadWeights(HfReferences.Dir(family));
        loaded.Dispose();
        using var random = RandomInit.Create(cfg, seed: 8, biases: true);
        using var model = new HookedTransformer(cfg, random);
        using var scope = NewDisposeScope();
        Assert.True(model.Forward(tensor(new long[] { 1, 2, 3 })).isfinite().all().item<bool>());
        // No biases on experts: MoE layers carry only router and expert matrices.
        Assert.DoesNotContain(random.Names, n => n.Contains("experts.b_"));
    }
}
