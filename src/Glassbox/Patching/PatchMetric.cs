using static TorchSharp.torch;

namespace Glassbox.Patching;

public enum MetricKind { LogitDiff, Probability, LogProb, KL }

/// <summary>One prediction a metric reads: the logits of batch item <paramref name="Item"/> at <paramref name="Position"/>,
/// scored on the tokens that should win (<paramref name="Good"/>) against those that should lose (<paramref name="Bad"/>, may be empty).</summary>
public sealed record MetricTarget(int Item, int Position, int[] Good, int[] Bad);

/// <summary>
/// The scalar that patching, attribution patching and circuit discovery move (Heimersheim &amp; Nanda 2024, arXiv 2404.15255),
/// averaged over its targets and differentiable so attribution patching can backpropagate it:
/// logit difference <c>mean f(good) − mean f(bad)</c>, probability <c>Σ p(good) − Σ p(bad)</c> (greater-than's probability
/// difference), log-probability <c>log Σ p(good)</c>, or <c>KL(p_clean ‖ p)</c> against the clean run.
/// </summary>
public sealed class PatchMetric
{
    public PatchMetric(MetricKind kind, IReadOnlyList<MetricTarget> targets)
    {
        if (targets.Count == 0) throw new GlassboxException("A metric needs at least one target prediction.");
        if (kind != MetricKind.KL && targets.Any(t => t.Good.Length == 0))
            throw new GlassboxException($"The {kind} metric needs at least one answer token per target.");
        Kind = kind;
        Targets = targets;
    }

    public MetricKind Kind { get; }
    public IReadOnlyList<MetricTarget> Targets { get; }

    public string Name => Kind switch
    {
        MetricKind.LogitDiff => Targets.All(t => t.Bad.Length == 0) ? "logit" : "logit difference",
        MetricKind.Probability => Targets.All(t => t.Bad.Length == 0) ? "probability" : "probability difference",
        MetricKind.LogProb => "log-probability",
        _ => "KL(clean ‖ patched)",
    };

    /// <summary>Lower is better for KL; every other metric is higher when the behaviour is present.</summary>
    public bool LowerIsBetter => Kind == MetricKind.KL;

    public static MetricKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "logit-diff" or "logit_diff" or "ld" or "logit" => MetricKind.LogitDiff,
        "prob" or "probability" or "prob-diff" => MetricKind.Probability,
        "logprob" or "log-prob" => MetricKind.LogProb,
        "kl" => MetricKind.KL,
        _ => throw new GlassboxException($"Unknown metric '{text}' (use logit-diff, prob, logprob or kl)."),
    };

    public PatchMetric With(MetricKind kind) => new(kind, Targets);

    /// <summary>The target rows of the logits, [target, d_vocab].</summary>
    public Tensor TargetLogits(Tensor logits)
    {
        var device = logits.device;
        var items = tensor(Targets.Select(t => (long)t.Item).ToArray(), device: device);
        var positions = tensor(Targets.Select(t => (long)t.Position).ToArray(), device: device);
        return logits.index(items, positions);
    }

    /// <summary>The metric as a 0-d tensor. <paramref name="cleanLogProbs"/>: the clean run's log-probabilities at the targets (KL only).</summary>
    public Tensor Evaluate(Tensor logits, Tensor? cleanLogProbs = null)
    {
        var rows = TargetLogits(logits).to(ScalarType.Float64);
        if (Kind == MetricKind.KL)
        {
            var reference = cleanLogProbs ?? throw new InvalidOperationException("KL needs the clean log-probabilities.");
            var logp = rows.log_softmax(-1);
            return (reference.exp() * (reference - logp)).sum(-1).mean();
        }
        var good = Weights(t => t.Good, rows);
        var bad = Weights(t => t.Bad, rows);
        return Kind switch
        {
            MetricKind.LogitDiff => ((rows * good).sum(-1) / good.sum(-1) - (rows * bad).sum(-1) / bad.sum(-1).clamp_min(1)).mean(),
            MetricKind.Probability => (rows.softmax(-1) * (good - bad)).sum(-1).mean(),
            _ => (rows.log_softmax(-1) + good.log()).logsumexp(-1).mean(),
        };
    }

    /// <summary>The clean log-probabilities at the targets, the reference of KL.</summary>
    public Tensor LogProbs(Tensor logits) => TargetLogits(logits).to(ScalarType.Float64).log_softmax(-1);

    Tensor Weights(Func<MetricTarget, int[]> tokens, Tensor rows)
    {
        long vocab = rows.shape[1];
        var w = new double[Targets.Count * vocab];
        for (int i = 0; i < Targets.Count; i++)
            foreach (var token in tokens(Targets[i])) w[i * vocab + token] = 1.0;
        return tensor(w, rows.shape, device: rows.device);
    }
}
