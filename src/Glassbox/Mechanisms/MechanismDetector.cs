using Glassbox.Datasets;
using Glassbox.Hooks;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tokenization;
using Glassbox.Weights;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Finds the primer's known mechanisms in any model (techniques §8): scores every head on repeated random tokens (previous-token,
/// duplicate-token, induction, fixed-offset, attention sink, copy suppression; with <see cref="MechanismOptions.Text"/>, the
/// previous-token, fixed-offset and sink scores on natural text instead) and from its weights (copying, copy suppression,
/// successor, K-composition), flags heads past the thresholds of <see cref="MechanismOptions"/>, and backs each flag with the
/// causal check: the change in the loss on the repeat when the head (and when all heads of its label) are zero-ablated, and for
/// the IOI circuit the change in the logit difference under mean-ablation. Residual-stream and neuron statistics come from the
/// same forward pass.
/// </summary>
public static class MechanismDetector
{
    public static MechanismsReport Run(HookedTransformer model, ITokenizer tokenizer, MechanismOptions? options = null, string? modelName = null)
    {
        var o = options ?? new MechanismOptions();
        var cfg = model.Config;
        int L = cfg.NLayers, H = cfg.NHeads;
        int halfLength = Math.Min(o.HalfLength, (cfg.ContextLength - 1) / 2);
        var data = new InductionDataset(tokenizer, halfLength);
        var sequences = data.Generate(o.Sequences, o.Seed);
        using var scope = NewDisposeScope();
        var tokens = tensor(sequences.SelectMany(s => s).ToArray(), new long[] { sequences.Length, data.SequenceLength }, device: model.W_E.device);

        HeadScores previous, duplicate, induction;
        var offsetFraction = new double[L, H]; var offsetDelta = new double[L, H];
        var sink = new double[L, H]; var sinkValue = new double[L, H]; var suppressionEffect = new double[L, H];
        ResidualStreamStats residual;
        DeadNeurons? dead = null;
        // Dead neurons are counted over dense MLPs only: an MoE layer's experts have no mlp.hook_pre over every token.
        bool denseMlps = model.Blocks.All(b => b.Mlp is not null);
        string names = "blocks.*.attn.hook_pattern,blocks.*.attn.hook_z,ln_final.hook_scale,blocks.*.hook_resid_pre," + HookNames.Full("resid_post", L - 1)
            + (denseMlps ? ",blocks.*.mlp.hook_pre" : "") + (o.Text is null ? ",blocks.*.attn.hook_v" : "");
        var (_, cache) = model.RunWithCache(tokens, names);
        using (cache)
        {
            (previous, duplicate, induction) = AttentionPatternScores.OnRepeatedTokens(cache, data, L, H);
            for (int l = 0; l < L; l++)
                AttentionPatternScores.Fill(suppressionEffect, l, CopySuppression.AttendedTokenEffect(model, cache, tokens, l));
            if (o.Text is null) OffsetAndSinkScores(model, cache, offsetFraction, offsetDelta, sink, sinkValue);
            residual = ResidualStreamStats.Measure(cache, L);
            if (denseMlps) dead = DeadNeurons.Count(cache, L);
        }
        if (o.Text is not null)
        {
            var text = TextTokens(model, o.Text);
            var (_, textCache) = model.RunWithCache(text, "blocks.*.attn.hook_pattern,blocks.*.attn.hook_v");
            using (textCache)
            {
                var previousOnText = new double[L, H];
                for (int l = 0; l < L; l++) AttentionPatternScores.Fill(previousOnText, l, AttentionPatternScores.Offset(textCache["pattern", l], 1, 1));
                previous = new HeadScores("previous-token (text)", previousOnText);
                OffsetAndSinkScores(model, textCache, offsetFraction, offsetDelta, sink, sinkValue);
            }
        }
        string onText = o.Text is null ? "" : " (text)";

        // Copy-suppression and successor scores read the effective embedding (techniques §5, McDougall et al. 2023).
        using var circuits = new HeadCircuits(model, effectiveEmbedding: true);
        var copying = WeightsOverview.CopyingScores(model);
        var composition = CompositionScores.Compute(model, o.Seed);
        int stride = Math.Max(1, data.TokenIds.Count / o.CopySuppressionTokens);
        var sampled = data.TokenIds.Where((_, i) => i % stride == 0).Select(t => (long)t).ToArray();
        var classes = SuccessorHeads.Classes(tokenizer);
        var suppressionWeights = new double[L, H];
        var successor = new double[L, H];
        for (int l = 0; l < L; l++)
        {
            using var layerScope = NewDisposeScope();
            var fullOv = circuits.FullOV(l);
            AttentionPatternScores.Fill(suppressionWeights, l, CopySuppression.WeightScore(fullOv, sampled));
            AttentionPatternScores.Fill(successor, l, SuccessorHeads.Score(fullOv, classes));
        }

        var losses = TaskMetrics.InductionLosses(model, data, sequences);
        double RepeatLoss((string, HookFn)[] hooks) => TaskMetrics.InductionLosses(model, data, sequences, hooks).SecondHalf;
        var repeatAblation = o.Ablations ? HeadAblationSweep.Run(model, RepeatLoss, Ablation.ZeroHead, "zero-ablation Δ repeat loss") : null;
        var ioiPrompts = o.Ablations ? IoiPromptsFor(model, tokenizer, o) : null;
        double? ioiAccuracy = ioiPrompts is null ? null : TaskMetrics.Ioi(model, ioiPrompts).Accuracy;
        // The IOI detectors only mean something in a model that does the task.
        var ioi = ioiAccuracy >= o.IoiAccuracy ? IoiHeads.Measure(model, ioiPrompts!) : null;

        HeadScores offsetScore = new("fixed-offset fraction" + onText, offsetFraction), sinkScore = new("attention-sink mass" + onText, sink),
            sinkValueScore = new("sink value norm (position 0 ÷ others)" + onText, sinkValue),
            suppressionScore = new("copy suppression (weights)", suppressionWeights), successorScore = new("successor", successor);
        var scores = new List<HeadScores>
        {
            previous, duplicate, induction, offsetScore, new("fixed offset δ" + onText, offsetDelta), sinkScore, sinkValueScore, copying,
            suppressionScore, new("copy suppression (DLA on attended token)", suppressionEffect),
        };
        // Successor scores exist only when the vocabulary holds enough ordinal pairs.
        bool hasSuccessor = !double.IsNaN(successor[0, 0]);
        if (hasSuccessor) scores.Add(successorScore);
        if (repeatAblation is not null) scores.Add(repeatAblation);
        if (ioi is not null) scores.AddRange(ioi.All);

        var findings = new List<HeadFinding>();
        void Flag(string label, HeadScores score, Func<int, int, bool> when, Func<int, int, string>? detail = null)
        {
            for (int l = 0; l < L; l++)
                for (int h = 0; h < H; h++)
                    if (when(l, h))
                        findings.Add(new HeadFinding(l, h, label, score.Metric, score[l, h], detail?.Invoke(l, h),
                            repeatAblation?.Metric, repeatAblation?[l, h]));
        }
        Flag("previous-token", previous, (l, h) => previous[l, h] >= o.AttentionThreshold);
        Flag("duplicate-token", duplicate, (l, h) => duplicate[l, h] >= o.AttentionThreshold);
        Flag("induction", induction, (l, h) => induction[l, h] >= o.AttentionThreshold, (l, h) => InductionDetail(composition, copying, l, h, H));
        Flag("fixed-offset", offsetScore, (l, h) => offsetFraction[l, h] >= o.PositionalThreshold, (l, h) => $"δ = {offsetDelta[l, h]}");
        Flag("attention sink", sinkScore, (l, h) => sink[l, h] >= o.SinkThreshold && sinkValue[l, h] < o.SinkValueNormThreshold,
            (l, h) => $"value norm at position 0: {sinkValue[l, h]:F2} × the others'");
        Flag("copy suppression", suppressionScore, (l, h) => copying[l, h] < 0 && suppressionWeights[l, h] >= o.CopySuppressionThreshold,
            (l, h) => $"copying {copying[l, h]:F2}, DLA on attended token {suppressionEffect[l, h]:F3}");
        Flag("successor", successorScore, (l, h) => hasSuccessor && successor[l, h] >= o.SuccessorThreshold);
        // Successor heads are a weight property with no behaviour on repeated tokens to ablate.
        findings = [.. findings.Select(f => f.Label == "successor" ? f with { EvidenceMetric = null, EvidenceValue = null } : f)];
        if (ioi is not null) findings.AddRange(IoiFindings(ioi, o, L, H));

        var groups = new List<GroupEvidence>();
        if (o.Ablations)
        {
            double clean = losses.SecondHalf;
            foreach (var label in findings.Where(f => f.EvidenceMetric == repeatAblation!.Metric).Select(f => f.Label).Distinct())
            {
                var heads = findings.Where(f => f.Label == label).Select(f => (f.Layer, f.Head)).Distinct().ToArray();
                groups.Add(new GroupEvidence(label, [.. heads.Select(x => $"L{x.Layer}H{x.Head}")], "repeat loss (zero-ablation)", clean,
                    RepeatLoss([.. heads.Select(x => Ablation.ZeroHead(x.Layer, x.Head))])));
            }
            if (ioi is not null) groups.AddRange(IoiGroups(model, ioiPrompts!, ioi, findings));
        }
        double LossThreshold(HeadFinding f) => f.EvidenceMetric == repeatAblation?.Metric ? o.LossEffect : o.LogitDiffEffectFraction * Math.Abs(ioi!.LogitDiff);
        findings = [.. findings.Select(f => f with { Verdict = Verdict(f, groups, LossThreshold(f)) })];

        var sinkPerLayer = Enumerable.Range(0, L).Select(l => Enumerable.Range(0, H).Average(h => sink[l, h])).ToArray();
        return new MechanismsReport(modelName ?? cfg.Architecture, L, H, sequences.Length, halfLength,
            new InductionLossEvidence(losses.FirstHalf, losses.SecondHalf), scores, findings, groups, sinkPerLayer, residual, dead, ioiAccuracy, ioi,
            composition.Baseline, classes.Count);
    }

    /// <summary>The scores techniques §8.1 defines on text (fixed offset, sink mass, sink value norm), from a cache of patterns and values.</summary>
    static void OffsetAndSinkScores(HookedTransformer model, ActivationCache cache, double[,] offsetFraction, double[,] offsetDelta, double[,] sink, double[,] sinkValue)
    {
        for (int l = 0; l < model.Config.NLayers; l++)
        {
            var pattern = cache["pattern", l];
            var (fraction, delta) = AttentionPatternScores.FixedOffset(pattern);
            AttentionPatternScores.Fill(offsetFraction, l, fraction);
            AttentionPatternScores.Fill(offsetDelta, l, [.. delta.Select(d => (double)d)]);
            AttentionPatternScores.Fill(sink, l, AttentionPatternScores.SinkMass(pattern));
            AttentionPatternScores.Fill(sinkValue, l, AttentionPatternScores.SinkValueNorm(cache["v", l], model.Blocks[l].Attn.W_O));
        }
    }

    static Tensor TextTokens(HookedTransformer model, IReadOnlyList<long[]> windows)
    {
        if (windows.Count == 0 || windows.Any(w => w.Length != windows[0].Length) || windows[0].Length < 2)
            throw new GlassboxException("The text probe needs at least one window, all of the same length (≥ 2 tokens).");
        if (windows[0].Length > model.Config.ContextLength)
            throw new GlassboxException($"Text windows of {windows[0].Length} tokens exceed the model's context of {model.Config.ContextLength}.");
        return tensor(windows.SelectMany(w => w).ToArray(), new long[] { windows.Count, windows[0].Length }, device: model.W_E.device);
    }

    static string InductionDetail(CompositionScores composition, HeadScores copying, int l, int h, int heads)
    {
        string copy = $"copying {copying[l, h]:F2}";
        if (l == 0) return copy;
        var top = CompositionScores.TopWriter(composition.K, heads, l, h);
        return $"top K-composition L{top.Layer}H{top.Head} ({top.Score:F3}, baseline {composition.Baseline:F3}), {copy}";
    }

    static IReadOnlyList<IoiPrompt>? IoiPromptsFor(HookedTransformer model, ITokenizer tokenizer, MechanismOptions o)
    {
        IoiDataset dataset;
        try { dataset = new IoiDataset(tokenizer); }
        catch (GlassboxException) { return null; } // the vocabulary lacks the names: no IOI probe for this model
        var prompts = dataset.Generate(o.IoiPrompts, o.IoiSeed);
        return prompts.Any(p => p.Ids.Length > model.Config.ContextLength) ? null : prompts;
    }

    /// <summary>The IOI labels of the zoo cards: direct writers (subject-suppression movers when they read S2+1), readers of S2+1, previous-token at S2, name carriers, and heads that act only through later layers.</summary>
    static IEnumerable<HeadFinding> IoiFindings(IoiHeads ioi, MechanismOptions o, int L, int H)
    {
        double maxDirect = ioi.DirectEffect.Values.Cast<double>().Max();
        double effect = o.UpstreamEffectFraction * Math.Abs(ioi.LogitDiff);
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++)
            {
                bool writer = maxDirect > 0 && ioi.DirectEffect[l, h] >= o.DirectEffectFraction * maxDirect;
                bool readsAfterS2 = ioi.EndToAfterS2[l, h] >= o.IoiAttentionThreshold;
                HeadFinding Finding(string label, HeadScores score) =>
                    new(l, h, label, score.Metric, score[l, h], null, ioi.MeanAblation.Metric, ioi.MeanAblation[l, h]);
                if (writer) yield return Finding(readsAfterS2 ? "IOI S-suppression mover" : "IOI direct writer", ioi.DirectEffect);
                if (readsAfterS2 && !writer) yield return Finding("IOI END→S2+1 reader", ioi.EndToAfterS2);
                if (ioi.PreviousAtS2[l, h] >= o.IoiAttentionThreshold) yield return Finding("IOI previous-token at S2", ioi.PreviousAtS2);
                if (ioi.EndToIo[l, h] >= o.NameCarrierThreshold && ioi.EndToS1[l, h] >= o.NameCarrierThreshold) yield return Finding("IOI name carrier", ioi.EndToIo);
                if (!writer && Math.Abs(ioi.MeanAblation[l, h]) >= effect) yield return Finding("IOI upstream", ioi.MeanAblation);
            }
    }

    static IEnumerable<GroupEvidence> IoiGroups(HookedTransformer model, IReadOnlyList<IoiPrompt> prompts, IoiHeads ioi, List<HeadFinding> findings)
    {
        using var scope = NewDisposeScope();
        var abc = IoiHeads.AbcTokens(model, prompts);
        foreach (var label in findings.Where(f => f.Label.StartsWith("IOI ")).Select(f => f.Label).Distinct().ToArray())
        {
            var heads = findings.Where(f => f.Label == label).Select(f => (f.Layer, f.Head)).ToArray();
            var hooks = heads.Select(x => Ablation.MeanHead(model, abc, x.Layer, x.Head)).ToArray();
            yield return new GroupEvidence(label, [.. heads.Select(x => $"L{x.Layer}H{x.Head}")], "IOI logit diff (mean-ablation)", ioi.LogitDiff,
                TaskMetrics.Ioi(model, prompts, hooks).MeanLogitDiff);
        }
    }

    /// <summary>"does" when ablating the head alone moves its behaviour past the threshold, "does, with its group" when only ablating every head of its label does, else "looks like".</summary>
    static string? Verdict(HeadFinding f, IReadOnlyList<GroupEvidence> groups, double threshold)
    {
        if (f.EvidenceValue is null) return null;
        if (Math.Abs(f.EvidenceValue.Value) >= threshold) return "does";
        var group = groups.FirstOrDefault(g => g.Label == f.Label);
        return group is not null && Math.Abs(group.Ablated - group.Clean) >= threshold ? "does, with its group" : "looks like";
    }
}
