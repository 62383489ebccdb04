using Glassbox.Circuits;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tests.Models;
using static TorchSharp.torch;

namespace Glassbox.Tests.Circuits;

/// <summary>The invariants techniques §4.1, §4.5 and §3.4 state for ACDC, faithfulness and attribution patching, on a tiny float64 GPT-2.</summary>
public class CircuitInvariantTests
{
    static PatchingTask Task()
    {
        var targets = Enumerable.Range(0, 2).Select(b => new MetricTarget(b, 5, [3 + b], [11])).ToArray();
        return new PatchingTask("tiny", TinyModels.Tokens(2, 6), TinyModels.Tokens(2, 6, seed: 9), new PatchMetric(MetricKind.LogitDiff, targets));
    }

    [Fact]
    public void AcdcIsDeterministicNeverRaisesTheLossAtTauZeroOrBelowAndStaysWithinTauPerRemovedEdge()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var task = Task();
        var first = Acdc.Discover(model, task, tau: 0);
        var again = Acdc.Discover(model, task, tau: 0);
        Assert.Equal(first.Kept, again.Kept);
        Assert.Equal(first.Scores, again.Scores);
        foreach (double tau in new[] { 0.0, -0.05 })
        {
            var f = Acdc.Discover(model, task, tau).Faithfulness!;
            // The loss is M(G) − M(C) for a logit difference: removals that each lower it leave it at most 0.
            Assert.True(f.Full - f.Circuit <= 1e-9, $"τ = {tau}: loss {f.Full - f.Circuit}");
        }
        var pruned = Acdc.Discover(model, task, tau: 0.02);
        int removed = pruned.Kept.Count(k => !k);
        Assert.True(removed > 0, "τ = 0.02 removes some edge");
        Assert.True(pruned.Faithfulness!.Full - pruned.Faithfulness.Circuit < 0.02 * removed, $"loss {pruned.Faithfulness.Full - pruned.Faithfulness.Circuit} after removing {removed}");
    }

    [Fact]
    public void FaithfulnessIsOneForTheWholeGraphAndZeroForNoEdges()
    {
        using var model = TinyModels.Create("gpt2", ScalarType.Float64);
        using var task = Task();
        using var scope = NewDisposeScope();
        var graph = new ComputationalGraph(model.Config);
        using var patcher = new EdgePatcher(model, graph, EdgePatcher.PatchValues(model, task.Clean, task.Corrupted, EdgeAblation.Resample));
        var whole = Faithfulness.Evaluate(model, task, patcher, Enumerable.Repeat(true, graph.Edges.Count).ToArray());
        var none = Faithfulness.Evaluate(model, task, patcher, new bool[graph.Edges.Count]);
        Assert.Equal(1.0, whole.Normalised, 12);
        Assert.Equal(0.0, whole.KlFromFull, 12);
        Assert.Equal(0.0, none.Normalised, 12);
        Assert.Equal(task.Measure(model, task.Clean), whole.Circuit, 9);
        Assert.Equal(task.Measure(model, task.Corrupted), none.Circuit, 9);
    }

    /// <summary>
    /// Techniques §4.2: a reader's incoming EAP scores add up to attribution patching of its whole input. For the logits the
    /// input is the final residual, so Σ_u score(u → logits) = (x_corrupted − x_clean) · ∂M/∂x at the clean run.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void EdgeScoresIntoTheLogitsSumToAttributionPatchingOfTheFinalResidual(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var task = Task();
        using var scope = NewDisposeScope();
        var graph = new ComputationalGraph(model.Config);
        var scores = EdgeAttributionPatching.Scores(model, graph, task, EdgePatcher.PatchValues(model, task.Clean, task.Corrupted, EdgeAblation.Resample));
        double intoLogits = graph.Edges.Where(e => e.To.Name == "logits").Sum(e => scores[e.Index]);
        string final = $"blocks.{model.Config.NLayers - 1}.hook_resid_post";
        var (logits, clean) = model.RunWithCache(task.Clean, final, keepGrad: true);
        task.Evaluate(model, logits).backward();
        var (_, corrupted) = model.RunWithCache(task.Corrupted, final);
        using (clean)
        using (corrupted)
        {
            double expected = ((corrupted[final] - clean[final].detach()) * clean.Grad(final)).sum().item<double>();
            Assert.Equal(expected, intoLogits, 9);
            Assert.True(Math.Abs(expected) > 1e-3, "a trivial estimate would make the check vacuous");
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AttributionPatchingsHeadEstimatesOfALayerSumToItsAttentionOutputsEstimate(string arch)
    {
        using var model = TinyModels.Create(arch, ScalarType.Float64);
        using var task = Task();
        var heads = AttributionPatching.Run(model, task, PatchSite.Heads);
        var attnOut = AttributionPatching.Run(model, task, PatchSite.AttnOut);
        for (int l = 0; l < model.Config.NLayers; l++)
        {
            double perHead = Enumerable.Range(0, heads.Values.GetLength(1)).Sum(h => heads.Values[l, h] - heads.Unpatched);
            double perPosition = Enumerable.Range(0, attnOut.Values.GetLength(1)).Sum(p => attnOut.Values[l, p] - attnOut.Unpatched);
            Assert.Equal(perPosition, perHead, 9);
        }
    }
}
