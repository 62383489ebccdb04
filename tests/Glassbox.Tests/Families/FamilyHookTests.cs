using Glassbox.Loading;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Families;

/// <summary>
/// The new components' hooks mean what their names say, read on the reference checkpoints: sliding windows, post-norms,
/// q/k norms, absent pre-norms, soft-capped logits, and the MoE router and experts.
/// </summary>
public class FamilyHookTests
{
    static Tensor Tokens(int n) => tensor(HfReferences.Cases("llama").First(c => c.Tokens.Length == 33).Tokens.Take(n).Select(t => (long)t).ToArray());

    [SharedTheory]
    [InlineData("mistral", new[] { 16, 16 })]
    [InlineData("gemma2", new[] { 8, 0 })]
    [InlineData("gemma3", new[] { 8, 8, 0 })]
    [InlineData("phi3", new[] { 16, 16 })]
    [InlineData("qwen2", new[] { 0, 0 })]
    public void SlidingWindowLayersAttendToExactlyTheLastWPositions(string family, int[] windows)
    {
        using var model = ModelLoader.Load(HfReferences.Dir(family));
        var (logits, cache) = model.RunWithCache(Tokens(33), "blocks.*.attn.hook_pattern");
        using (logits) using (cache)
            for (int l = 0; l < windows.Length; l++)
            {
                Assert.Equal(windows[l] == 0 ? null : windows[l], model.Blocks[l].Attn.Window);
                var pattern = cache["pattern", l][0].to(ScalarType.Float64); // [head, query, key]
                var i = arange(33).view(33, 1);
                var j = arange(33).view(1, 33);
                var visible = (j <= i).logical_and(windows[l] == 0 ? ones_like(j <= i) : j > i - windows[l]);
                Assert.Equal(0.0, pattern.masked_select(visible.logical_not().expand_as(pattern)).abs().sum().item<double>());
                Assert.True(pattern.masked_select(visible.expand_as(pattern)).min().item<double>() > 0, $"{family} layer {l}: a visible key got no weight");
            }
    }

    [SharedFact]
    public void PostNormsAreWhatJoinsTheResidual()
    {
        using var model = ModelLoader.Load(HfReferences.Dir("gemma2"));
        var (logits, cache) = model.RunWithCache(Tokens(12));
        using (logits) using (cache)
            for (int l = 0; l < 2; l++)
            {
                Assert.Equal(0.0, (cache[$"blocks.{l}.hook_attn_out"] - cache[$"blocks.{l}.ln1_post.hook_normalized"]).abs().max().item<float>());
                Assert.Equal(0.0, (cache[$"blocks.{l}.hook_mlp_out"] - cache[$"blocks.{l}.ln2_post.hook_normalized"]).abs().max().item<float>());
                var sum = cache[$"blocks.{l}.hook_resid_pre"] + cache[$"blocks.{l}.hook_attn_out"] + cache[$"blocks.{l}.hook_mlp_out"];
                Assert.True((sum - cache[$"blocks.{l}.hook_resid_post"]).abs().max().item<float>() < 1e-5);
            }
    }

    [SharedFact]
    public void Olmo2HasNoPreNormsAndNormalisesQueriesOverAllHeads()
    {
        using var model = ModelLoader.Load(HfReferences.Dir("olmo2"));
        Assert.False(model.Hooks.Contains("blocks.0.ln1.hook_scale"));
        var (logits, cache) = model.RunWithCache(Tokens(10));
        using (logits) using (cache)
        {
            Assert.Equal(0.0, (cache["blocks.0.ln1.hook_normalized"] - cache["blocks.0.hook_resid_pre"]).abs().max().item<float>());
            // Joint q norm: one RMS over all 4 heads × 8 dims, so the unweighted output has RMS 1 per position, not per head.
            var q = cache["blocks.0.attn.q_norm.hook_normalized"] / model.Blocks[0].Attn.QNorm!.W; // [batch, pos, 32]
            Assert.Equal(new long[] { 1, 10, 32 }, q.shape);
            Assert.True((q.square().mean([-1]) - 1).abs().max().item<float>() < 1e-4);
        }
    }

    [SharedTheory]
    [InlineData("qwen3")]
    [InlineData("gemma3")]
    public void PerHeadQkNormsGiveEachHeadUnitRms(string family)
    {
        using var model = ModelLoader.Load(HfReferences.Dir(family));
        var (logits, cache) = model.RunWithCache(Tokens(10));
        using (logits) using (cache)
            foreach (var (name, norm) in new[] { ("q_norm", model.Blocks[0].Attn.QNorm!), ("k_norm", model.Blocks[0].Attn.KNorm!) })
            {
                var x = cache[$"blocks.0.attn.{name}.hook_normalized"] / norm.W; // [batch, pos, heads, d_head]
                Assert.True((x.square().mean([-1]) - 1).abs().max().item<float>() < 1e-3, $"{family} {name}");
                // The norm follows the projection: hook_q / hook_k are its input, not yet unit-RMS.
                var raw = cache[$"blocks.0.attn.hook_{name[0]}"];
                Assert.True((raw.square().mean([-1]) - 1).abs().max().item<float>() > 0.05, $"{family} hook_{name[0]} is already normalised");
            }
    }

    [SharedFact]
    public void Gemma2LogitsAreSoftCapped()
    {
        using var model = ModelLoader.Load(HfReferences.Dir("gemma2"));
        using var scope = NewDisposeScope();
        var (logits, cache) = model.RunWithCache(Tokens(20), "ln_final.hook_normalized");
        using (cache)
        {
            var uncapped = matmul(cache["ln_final.hook_normalized"], model.W_U);
            Assert.True(uncapped.abs().max().item<float>() > 6, "the cap is exercised: some uncapped logit exceeds it");
            Assert.True((logits - (uncapped / 6).tanh() * 6).abs().max().item<float>() < 1e-5);
            Assert.True(logits.abs().max().item<float>() < 6);
        }
    }

    [SharedTheory]
    [InlineData("mixtral")]
    [InlineData("qwen3_moe")]
    public void ExpertHooksExplainTheMoeOutput(string family)
    {
        using var model = ModelLoader.Load(HfReferences.Dir(family));
        var (logits, cache) = model.RunWithCache(Tokens(15));
        using (logits) using (cache)
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                var router = cache[$"blocks.{l}.mlp.hook_router_logits"];          // [batch, pos, expert]
                var chosen = cache[$"blocks.{l}.mlp.hook_expert_indices"];          // [batch, pos, 2]
                var weights = cache[$"blocks.{l}.mlp.hook_expert_weights"];
                Assert.Equal(router.topk(2, dim: -1).indexes.data<long>().ToArray(), chosen.data<long>().ToArray());
                Assert.True((weights.sum(-1) - 1).abs().max().item<float>() < 1e-6, "top-2 weights renormalised to 1");
                Assert.True((cache[$"blocks.{l}.mlp.hook_expert_out"].sum(2) - cache[$"blocks.{l}.hook_mlp_out"]).abs().max().item<float>() < 1e-5);
            }
    }
}

public class SoftCappedLensTests
{
    [SharedFact]
    public void TheLogitLensOfTheLastResidualIsTheModelsOwnSoftCappedOutput()
    {
        using var model = Glassbox.Loading.ModelLoader.Load(HfReferences.Dir("gemma2"));
        using var scope = TorchSharp.torch.NewDisposeScope();
        var tokens = TorchSharp.torch.tensor(HfReferences.Cases("gemma2").First(c => c.Tokens.Length == 24).Tokens.Select(t => (long)t).ToArray());
        var (logits, cache) = model.RunWithCache(tokens, $"blocks.{model.Config.NLayers - 1}.hook_resid_post");
        using (cache)
        {
            var lens = Glassbox.Lens.LogitLens.Decode(model, cache[$"blocks.{model.Config.NLayers - 1}.hook_resid_post"]);
            Assert.True((lens - logits).abs().max().item<float>() < 1e-5);
            Assert.True(lens.abs().max().item<float>() < 6, "capped at final_logit_softcapping");
        }
    }
}
