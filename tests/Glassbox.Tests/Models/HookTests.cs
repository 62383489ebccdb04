using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Models;

public class HookTests
{
    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void IdentityHooksOnEveryPointChangeNothing(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(2, 9);
        var plain = model.Forward(tokens);
        int calls = 0;
        var everyDefaultPoint = string.Join(",", model.Hooks.Points.Where(p => !p.OptIn).Select(p => p.Name));
        var hooked = model.RunWithHooks(tokens, (everyDefaultPoint, (x, _) => { calls++; return x.clone(); }));
        Assert.True(plain.equal(hooked).all().item<bool>(), "identity hooks must leave logits bit-identical");
        Assert.Equal(model.Hooks.Points.Count(p => !p.OptIn), calls);
        // Hooking the opt-in per-head results switches attention to a per-head sum: equal up to rounding.
        var withResults = model.RunWithHooks(tokens, ("*", (x, _) => x.clone()));
        Assert.True(plain.allclose(withResults, rtol: 1e-5, atol: 1e-5));
        Assert.False(model.Hooks.AnyHooks);
    }

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void ZeroingOneHeadsZEqualsRemovingItsTermByHand(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 8);
        const int layer = 1, head = 2;
        var (_, cache) = model.RunWithCache(tokens, $"blocks.{layer}.attn.hook_z,blocks.{layer}.hook_attn_out");
        using (cache)
        {
            // attn_out without head h = attn_out − z_h W_O^h
            var z = cache["z", layer];
            var headTerm = matmul(z[.., .., head], model.Blocks[layer].Attn.W_O[head]);
            var expected = cache["attn_out", layer] - headTerm;
            Tensor? observed = null;
            model.RunWithHooks(tokens,
                ($"blocks.{layer}.attn.hook_z", (x, _) => { var y = x.clone(); y[.., .., head] = 0; return y; }),
                ($"blocks.{layer}.hook_attn_out", (x, _) => { observed = x.Keep(); return null; }));
            Assert.True(observed!.allclose(expected, rtol: 1e-5, atol: 1e-5));
        }
    }

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void FullCacheHasEveryDocumentedHookWithItsShape(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var c = model.Config;
        const int B = 2, P = 7;
        var (_, cache) = model.RunWithCache(TinyModels.Tokens(B, P));
        using (cache)
        {
            var expected = new Dictionary<string, long[]> { ["hook_embed"] = new long[] { B, P, c.DModel } };
            if (c.Positional == PositionalKind.Learned) expected["hook_pos_embed"] = new long[] { B, P, c.DModel };
            for (int l = 0; l < c.NLayers; l++)
            {
                string b = $"blocks.{l}.";
                foreach (var n in new[] { "hook_resid_pre", "hook_attn_out", "hook_resid_post", "ln1.hook_normalized" })
                    expected[b + n] = new long[] { B, P, c.DModel };
                expected[b + "ln1.hook_scale"] = new long[] { B, P, 1 };
                if (!c.AttnOnly)
                {
                    foreach (var n in new[] { "hook_mlp_in", "hook_mlp_out", "ln2.hook_normalized" })
                        expected[b + n] = new long[] { B, P, c.DModel };
                    if (!c.ParallelAttnMlp) expected[b + "hook_resid_mid"] = new long[] { B, P, c.DModel };
                    expected[b + "ln2.hook_scale"] = new long[] { B, P, 1 };
                    expected[b + "mlp.hook_pre"] = expected[b + "mlp.hook_post"] = new long[] { B, P, c.DMlp };
                    if (c.GatedMlp) expected[b + "mlp.hook_pre_linear"] = new long[] { B, P, c.DMlp };
                }
                expected[b + "attn.hook_q"] = expected[b + "attn.hook_z"] = new long[] { B, P, c.NHeads, c.DHead };
                expected[b + "attn.hook_k"] = expected[b + "attn.hook_v"] = new long[] { B, P, c.NKvHeads, c.DHead };
                if (c.Positional == PositionalKind.Rotary)
                {
                    expected[b + "attn.hook_rot_q"] = new long[] { B, P, c.NHeads, c.DHead };
                    expected[b + "attn.hook_rot_k"] = new long[] { B, P, c.NKvHeads, c.DHead };
                }
                expected[b + "attn.hook_attn_scores"] = expected[b + "attn.hook_pattern"] = new long[] { B, c.NHeads, P, P };
            }
            expected["ln_final.hook_scale"] = new long[] { B, P, 1 };
            expected["ln_final.hook_normalized"] = new long[] { B, P, c.DModel };

            Assert.Equal(expected.Keys.Order(), cache.Names.Order());
            foreach (var (name, shape) in expected) Assert.True(shape.SequenceEqual(cache[name].shape), $"{name}: [{string.Join(", ", cache[name].shape)}]");

            // Patterns are causal probability rows.
            var pattern = cache["pattern", 0];
            Assert.True(pattern.sum(-1).allclose(ones(B, c.NHeads, P), atol: 1e-5));
            Assert.Equal(0f, pattern.triu(1).abs().sum().item<float>());
        }

        // hook_result is opt-in: computed when asked for, and its heads sum to attn_out − b_O.
        var (_, withResult) = model.RunWithCache(TinyModels.Tokens(B, P), "blocks.0.attn.hook_result,blocks.0.hook_attn_out");
        using (withResult)
        {
            var result = withResult["result", 0];
            Assert.Equal(new long[] { B, P, c.NHeads, c.DModel }, result.shape);
            var bO = model.Blocks[0].Attn.b_O;
            var sum = bO is null ? result.sum(2) : result.sum(2) + bO;
            Assert.True(sum.allclose(withResult["attn_out", 0], rtol: 1e-5, atol: 1e-5));
        }
    }

    [Fact]
    public void HooksAreRemovedAfterACallThatThrew()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 5);
        Assert.Throws<InvalidOperationException>(() =>
            model.RunWithHooks(tokens, ("blocks.1.hook_resid_pre", (_, _) => throw new InvalidOperationException("boom"))));
        Assert.False(model.Hooks.AnyHooks);
        Assert.Throws<InvalidOperationException>(() =>
        {
            using (model.Hooks.Add("blocks.*.attn.hook_pattern", (_, _) => throw new InvalidOperationException("boom"))) model.Forward(tokens);
        });
        Assert.False(model.Hooks.AnyHooks);
        model.Forward(tokens); // runs cleanly afterwards
    }

    [Fact]
    public void UnknownHookNamesAreErrorsNamingCloseMatches()
    {
        using var model = TinyModels.Create("gpt2");
        var e = Assert.Throws<GlassboxException>(() => model.Hooks.Add("blocks.0.attn.hook_patern", (x, _) => null));
        Assert.Contains("Unknown hook name 'blocks.0.attn.hook_patern'", e.Message);
        Assert.Contains("blocks.0.attn.hook_pattern", e.Message);
        var g = Assert.Throws<GlassboxException>(() => model.RunWithCache(TinyModels.Tokens(1, 3), "blocks.*.hook_nothing"));
        Assert.Contains("matches no hook point", g.Message);
        var (_, cache) = model.RunWithCache(TinyModels.Tokens(1, 3), "hook_embed");
        using (cache)
        {
            Assert.Contains("was not cached", Assert.Throws<GlassboxException>(() => cache["pattern", 0]).Message);
            Assert.Contains("Unknown hook name", Assert.Throws<GlassboxException>(() => cache["blocks.0.hook_bogus"]).Message);
        }
    }

    [Fact]
    public void HookReturningTheWrongShapeIsAClearError()
    {
        using var model = TinyModels.Create("gpt2");
        var e = Assert.Throws<GlassboxException>(() => model.RunWithHooks(TinyModels.Tokens(1, 4), ("blocks.0.hook_resid_pre", (x, _) => x[.., ..2])));
        Assert.Contains("blocks.0.hook_resid_pre", e.Message);
        // A float64 replacement in a float32 model would otherwise fail later, inside a matmul, naming neither.
        e = Assert.Throws<GlassboxException>(() => model.RunWithHooks(TinyModels.Tokens(1, 4), ("blocks.0.hook_resid_pre", (x, _) => x.to(ScalarType.Float64))));
        Assert.Contains("blocks.0.hook_resid_pre returned Float64 on cpu but the activation is Float32 on cpu", e.Message);
    }

    [Fact]
    public void CacheKeepsGradientsForEveryActivation()
    {
        using var model = TinyModels.Create("llama", ScalarType.Float64);
        using var scope = NewDisposeScope();
        var tokens = TinyModels.Tokens(1, 6);
        var (logits, cache) = model.RunWithCache(tokens, keepGrad: true);
        using (cache)
        {
            var metric = logits[0, -1, 3] - logits[0, -1, 4];
            metric.backward();
            var g = cache.Grad("blocks.1.hook_resid_post");
            Assert.Equal(cache["resid_post", 1].shape, g.shape);
            // resid_post of the last layer reaches the logits only through ln_final at the last position.
            Assert.Equal(0.0, g[0, ..^1].abs().sum().item<double>());
            Assert.True(g[0, -1].abs().sum().item<double>() > 0);

            // The gradient at hook_z predicts the effect of a small change there (first order).
            var gz = cache.Grad("blocks.0.attn.hook_z");
            var delta = full_like(gz, 1e-6);
            var shifted = model.RunWithHooks(tokens, ("blocks.0.attn.hook_z", (x, _) => x + delta));
            var change = (shifted[0, -1, 3] - shifted[0, -1, 4]).item<double>() - metric.item<double>();
            Assert.Equal((gz * delta).sum().item<double>(), change, 1e-9);
        }
    }

    [Fact]
    public void ShorthandNamesFollowTransformerLens()
    {
        Assert.Equal("blocks.3.attn.hook_pattern", HookNames.Full("pattern", 3));
        Assert.Equal("blocks.2.ln2.hook_scale", HookNames.Full("scale", 2, "ln2"));
        Assert.Equal("blocks.0.mlp.hook_post", HookNames.Full("post", 0));
        Assert.Equal("blocks.1.hook_resid_pre", HookNames.Full("resid_pre", 1));
        Assert.Equal("ln_final.hook_scale", HookNames.Full("scale"));
        Assert.Equal("hook_embed", HookNames.Full("embed"));
    }
}
