using Glassbox.Datasets;
using Glassbox.Hooks;
using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Training.Recipes;
using static TorchSharp.torch;

namespace Glassbox.Tests.ModelZoo;

/// <summary>
/// The measurements behind the IOI model cards, on the card's probe: 200 held-out IOI prompts (seed 4242),
/// ablation means taken over their ABC corruptions.
/// </summary>
public sealed class IoiProbe
{
    public IoiProbe(ZooModel zoo)
    {
        Zoo = zoo;
        Prompts = new IoiDataset(zoo.Tokenizer).Generate(200, 4242);
        // The most common prompt length: one batch for attention and direct-logit measurements.
        Group = Prompts.GroupBy(p => p.Ids.Length).OrderByDescending(g => g.Count()).First().ToList();
        var abc = Group.Select(p => p.AbcCorruption()).ToList();
        AbcTokens = Batch(abc);
        GroupTokens = Batch(Group);
    }

    public ZooModel Zoo { get; }
    public IReadOnlyList<IoiPrompt> Prompts { get; }
    public IReadOnlyList<IoiPrompt> Group { get; }
    public Tensor GroupTokens { get; }
    public Tensor AbcTokens { get; }

    static Tensor Batch(IReadOnlyList<IoiPrompt> prompts) =>
        tensor(prompts.SelectMany(p => p.Ids.Select(i => (long)i)).ToArray(), new long[] { prompts.Count, prompts[0].Ids.Length }).DetachFromDisposeScope();

    /// <summary>The recipe's task metrics: both accuracies at least 90 % (the issue's bar), the means within the card's bands.</summary>
    public void AssertTaskMetrics(Recipe recipe, (double Low, double High) logitDiff, (double Low, double High) probabilityDifference)
    {
        var m = recipe.Evaluate(Zoo.Model, Zoo.Tokenizer);
        Assert.True(m["ioi_accuracy"] >= 0.9, $"IOI accuracy {m["ioi_accuracy"]}");
        Assert.InRange(m["ioi_logit_diff"], logitDiff.Low, logitDiff.High);
        Assert.True(m["greater_than_accuracy"] >= 0.9, $"greater-than accuracy {m["greater_than_accuracy"]}");
        Assert.InRange(m["greater_than_prob_diff"], probabilityDifference.Low, probabilityDifference.High);
    }

    public double LogitDiff(params (string, HookFn)[] hooks) => TaskMetrics.Ioi(Zoo.Model, Prompts, hooks).MeanLogitDiff;

    /// <summary>Mean log p(IO) at the end position over the group's prompts.</summary>
    public double LogProbIo(params (string, HookFn)[] hooks)
    {
        using var scope = NewDisposeScope();
        var logp = Zoo.Model.RunWithHooks(GroupTokens, hooks)[.., Group[0].EndPosition].log_softmax(-1);
        var io = tensor(Group.Select(p => (long)p.IoToken).ToArray()).unsqueeze(1);
        return logp.gather(1, io).mean().item<float>();
    }

    /// <summary>Change in the mean logit difference when the head is mean-ablated (mean over the ABC prompts).</summary>
    public double MeanAblationEffect(int layer, int head) => LogitDiff(Ablation.MeanHead(Zoo.Model, AbcTokens, layer, head)) - LogitDiff();

    /// <summary>Mean attention of a head from the end position to the token after S2 (the verb after the repeated subject).</summary>
    public HeadScores EndToAfterS2() =>
        AttentionPatternScores.Between(Zoo.Model, GroupTokens, Group.Select(p => p.EndPosition).ToArray(), Group.Select(p => p.S2Position + 1).ToArray(), "END→S2+1");

    /// <summary>Previous-token attention at S2: A[S2, S2−1].</summary>
    public HeadScores PreviousAtS2() =>
        AttentionPatternScores.Between(Zoo.Model, GroupTokens, Group.Select(p => p.S2Position).ToArray(), Group.Select(p => p.S2Position - 1).ToArray(), "S2→S2−1");

    /// <summary>Each head's direct effect on logit(IO) − logit(S) at the end position (exact DLA, final norm scale frozen).</summary>
    public HeadScores DirectEffects() =>
        DirectLogitAttribution.Run(Zoo.Model, GroupTokens, Group.Select((p, i) => new MetricTarget(i, p.EndPosition, [p.IoToken], [p.SToken])).ToArray(),
            "logit(IO) − logit(S)").Heads;
}

public sealed class IoiGpt2Fixture : IDisposable
{
    public IoiGpt2Fixture() => Probe = new IoiProbe(new ZooModel("ioi-gpt2-4l"));
    public IoiProbe Probe { get; }
    public void Dispose() => Probe.Zoo.Dispose();
}

public sealed class IoiLlamaFixture : IDisposable
{
    public IoiLlamaFixture() => Probe = new IoiProbe(new ZooModel("ioi-llama-4l"));
    public IoiProbe Probe { get; }
    public void Dispose() => Probe.Zoo.Dispose();
}
