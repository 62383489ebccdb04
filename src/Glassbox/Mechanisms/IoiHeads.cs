using Glassbox.Datasets;
using Glassbox.Models;
using Glassbox.Patching;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// The heads of an indirect-object-identification circuit (Wang et al. 2023, arXiv 2211.00593), measured per head on IOI prompts:
/// the direct effect of its write at the end position on <c>logit(IO) − logit(S)</c> (<see cref="DirectLogitAttribution.ReadDirection"/>), its
/// attention from the end to IO, S1 and the token after S2, its previous-token attention at S2, and — the causal check — the
/// change in the mean logit difference when it is mean-ablated (its <c>hook_z</c> replaced by the mean over the ABC corruptions).
/// Attention and direct effects use the prompts of the most common length, as one batch.
/// </summary>
public sealed record IoiHeads(double LogitDiff, int Prompts, HeadScores DirectEffect, HeadScores EndToIo, HeadScores EndToS1,
    HeadScores EndToAfterS2, HeadScores PreviousAtS2, HeadScores MeanAblation)
{
    public IEnumerable<HeadScores> All => [DirectEffect, EndToIo, EndToS1, EndToAfterS2, PreviousAtS2, MeanAblation];

    public static IoiHeads Measure(HookedTransformer model, IReadOnlyList<IoiPrompt> prompts)
    {
        var group = CommonLength(prompts);
        using var scope = NewDisposeScope();
        var tokens = Batch(model, group);
        var abc = AbcTokens(model, prompts);
        int[] ends = [.. group.Select(p => p.EndPosition)];
        HeadScores FromEnd(IEnumerable<int> keys, string metric) => AttentionPatternScores.Between(model, tokens, ends, keys.ToArray(), metric);
        var ablation = HeadAblationSweep.Run(model, hooks => TaskMetrics.Ioi(model, prompts, hooks).MeanLogitDiff,
            (l, h) => Ablation.MeanHead(model, abc, l, h), "mean-ablation Δ logit(IO) − logit(S)");
        return new(TaskMetrics.Ioi(model, prompts).MeanLogitDiff, prompts.Count,
            DirectEffects(model, group, tokens),
            FromEnd(group.Select(p => p.IoPosition), "END→IO"),
            FromEnd(group.Select(p => p.S1Position), "END→S1"),
            FromEnd(group.Select(p => p.S2Position + 1), "END→S2+1"),
            AttentionPatternScores.Between(model, tokens, [.. group.Select(p => p.S2Position)], [.. group.Select(p => p.S2Position - 1)], "S2→S2−1"),
            ablation);
    }

    /// <summary>The prompts of the most common length.</summary>
    public static IReadOnlyList<IoiPrompt> CommonLength(IReadOnlyList<IoiPrompt> prompts) =>
        prompts.GroupBy(p => p.Ids.Length).OrderByDescending(g => g.Count()).First().ToList();

    /// <summary>The ABC corruptions of the prompts of the most common length, one batch: the reference for mean-ablation.</summary>
    public static Tensor AbcTokens(HookedTransformer model, IReadOnlyList<IoiPrompt> prompts) =>
        Batch(model, CommonLength(prompts).Select(p => p.AbcCorruption()).ToList());

    static Tensor Batch(HookedTransformer model, IReadOnlyList<IoiPrompt> prompts) =>
        tensor(prompts.SelectMany(p => p.Ids.Select(i => (long)i)).ToArray(), new long[] { prompts.Count, prompts[0].Ids.Length }, device: model.W_E.device);

    /// <summary>Each head's write at the end position projected on <c>W_U[IO] − W_U[S]</c> through the frozen final norm, averaged over the batch.</summary>
    static HeadScores DirectEffects(HookedTransformer model, IReadOnlyList<IoiPrompt> group, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var (_, cache) = model.RunWithCache(tokens, "blocks.*.attn.hook_result,ln_final.hook_scale");
        using (cache)
        {
            int end = group[0].EndPosition, L = model.Config.NLayers;
            var io = tensor(group.Select(p => (long)p.IoToken).ToArray(), device: model.W_E.device);
            var s = tensor(group.Select(p => (long)p.SToken).ToArray(), device: model.W_E.device);
            var readout = (DirectLogitAttribution.Unembedding(model, io) - DirectLogitAttribution.Unembedding(model, s)).unsqueeze(1); // [batch, 1, d]
            var direction = DirectLogitAttribution.ReadDirection(model, readout, cache["ln_final.hook_scale"][.., end].unsqueeze(1));   // [batch, 1, d]
            var values = new double[L, model.Config.NHeads];
            for (int l = 0; l < L; l++)
                AttentionPatternScores.Fill(values, l,
                    (cache["result", l][.., end] * direction).sum(-1).to(ScalarType.Float64).mean(new long[] { 0 }).cpu().data<double>().ToArray());
            return new HeadScores("direct effect on logit(IO) − logit(S)", values);
        }
    }
}
