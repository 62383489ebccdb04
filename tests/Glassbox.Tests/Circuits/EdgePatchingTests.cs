using Glassbox.Circuits;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Circuits;

public class EdgePatchingTests
{
    [Fact]
    public void Gpt2SmallHas32491Edges()
    {
        var cfg = new ModelConfig { Architecture = "gpt2", NLayers = 12, DModel = 768, NHeads = 12, DMlp = 3072, VocabSize = 50257, ContextLength = 1024 };
        Assert.Equal(32491, new ComputationalGraph(cfg).Edges.Count);
    }

    [Theory]
    [MemberData(nameof(RuntimeTests.Archs), MemberType = typeof(RuntimeTests))]
    public void PatchingNoEdgeIsCleanAndEveryEdgeIsCorrupted(string arch)
    {
        using var model = TinyModels.Create(arch);
        using var scope = NewDisposeScope();
        var clean = TinyModels.Tokens(2, 7);
        var corrupted = TinyModels.Tokens(2, 7, seed: 5);
        var graph = new ComputationalGraph(model.Config);
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, clean, corrupted, EdgeAblation.Resample));
        var none = patcher.Run(clean, new bool[graph.Edges.Count]);
        var all = patcher.Run(clean, Enumerable.Repeat(true, graph.Edges.Count).ToArray());
        Assert.True(none.allclose(model.Forward(clean), rtol: 1e-4, atol: 1e-4));
        Assert.True(all.allclose(model.Forward(corrupted), rtol: 1e-4, atol: 1e-4), "with every edge patched the clean run becomes the corrupted one");

        // Patching only the edges into the logits is the corrupted final residual read out: the logits change exactly as the residual does.
        var intoLogits = graph.Edges.Select(e => e.To.Name == "logits").ToArray();
        var (_, cache) = model.RunWithCache(corrupted, $"blocks.{model.Config.NLayers - 1}.hook_resid_post");
        using (cache)
        {
            var final = cache["resid_post", model.Config.NLayers - 1];
            var expected = model.RunWithHooks(clean, ($"blocks.{model.Config.NLayers - 1}.hook_resid_post", (_, _) => final));
            Assert.True(patcher.Run(clean, intoLogits).allclose(expected, rtol: 1e-4, atol: 1e-4));
        }
    }

    [Fact]
    public void OneEdgeMovesOnlyItsReader()
    {
        using var model = TinyModels.Create("gpt2");
        using var scope = NewDisposeScope();
        var clean = TinyModels.Tokens(2, 7);
        var corrupted = TinyModels.Tokens(2, 7, seed: 5);
        var graph = new ComputationalGraph(model.Config);
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, clean, corrupted, EdgeAblation.Resample));
        var edge = graph.Edges.Single(e => e.Name == "L0H1 → L1H2.k");
        var patched = new bool[graph.Edges.Count];
        patched[edge.Index] = true;
        Tensor? keys = null, queries = null;
        using (model.Hooks.Add("blocks.1.attn.hook_k", (x, _) => { keys = x.detach().clone().DetachFromDisposeScope(); return null; }))
        using (model.Hooks.Add("blocks.1.attn.hook_q", (x, _) => { queries = x.detach().clone().DetachFromDisposeScope(); return null; }))
            patcher.Run(clean, patched);
        var (_, cache) = model.RunWithCache(clean, "blocks.1.attn.hook_k,blocks.1.attn.hook_q");
        using (cache)
        {
            Assert.True(queries!.allclose(cache["q", 1], rtol: 1e-5, atol: 1e-5), "queries are untouched");
            var changed = (keys! - cache["k", 1]).abs().amax(new long[] { 0, 1, 3 });
            var perHead = changed.data<float>().ToArray();
            Assert.True(perHead[2] > 1e-3 && perHead.Where((_, h) => h != 2).All(c => c < 1e-5), string.Join(", ", perHead));
        }
    }
}
