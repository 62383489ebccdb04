namespace Glassbox.Mechanisms;

/// <summary>The probe data and the flag thresholds of <see cref="MechanismDetector"/>; the thresholds are Glassbox's defaults (techniques §8).</summary>
public sealed record MechanismOptions
{
    /// <summary>T of the repeated random sequences <c>[BOS, r_1..r_T, r_1..r_T]</c>; shortened to fit the context.</summary>
    public int HalfLength { get; init; } = 50;
    public int Sequences { get; init; } = 16;
    public int Seed { get; init; }
    /// <summary>IOI prompts for the IOI-circuit detectors (run when the vocabulary has the names); the zoo cards' probe by default.</summary>
    public int IoiPrompts { get; init; } = 200;
    public int IoiSeed { get; init; } = 4242;
    /// <summary>The IOI detectors run only when the model gets at least this fraction of the prompts right.</summary>
    public double IoiAccuracy { get; init; } = 0.6;
    /// <summary>Rows of the full OV circuit sampled (evenly over the vocabulary) for the copy-suppression weight score; each costs <c>O(V·d_head)</c> per head.</summary>
    public int CopySuppressionTokens { get; init; } = 300;
    /// <summary>
    /// Windows of natural text, all the same length, on which the text-defined scores are measured instead of the repeated
    /// random sequences (techniques §8.1: previous-token, fixed-offset and attention-sink heads are defined on text).
    /// </summary>
    public IReadOnlyList<long[]>? Text { get; init; }
    /// <summary>Run the ablations behind the causal evidence (one forward per head per behaviour).</summary>
    public bool Ablations { get; init; } = true;

    public double AttentionThreshold { get; init; } = 0.4;
    public double PositionalThreshold { get; init; } = 0.9;
    public double SinkThreshold { get; init; } = 0.5;
    /// <summary>A sink also writes little: ‖v_0 W_O‖ below this fraction of the other positions' mean.</summary>
    public double SinkValueNormThreshold { get; init; } = 0.5;
    public double CopySuppressionThreshold { get; init; } = 0.5;
    public double SuccessorThreshold { get; init; } = 0.5;
    /// <summary>A direct effect counts when it is at least this fraction of the largest positive one.</summary>
    public double DirectEffectFraction { get; init; } = 0.2;
    /// <summary>IOI attention thresholds: END→S2+1 and S2→S2−1; name carriers need END→IO and END→S1 both above the second.</summary>
    public double IoiAttentionThreshold { get; init; } = 0.5;
    public double NameCarrierThreshold { get; init; } = 0.35;
    /// <summary>A head that is no direct writer is "upstream" when mean-ablating it moves the IOI logit difference by this fraction of its clean value.</summary>
    public double UpstreamEffectFraction { get; init; } = 0.2;
    /// <summary>An ablation "does" something when it moves the repeat loss by this many nats, or the IOI logit difference by this fraction of its clean value.</summary>
    public double LossEffect { get; init; } = 0.1;
    public double LogitDiffEffectFraction { get; init; } = 0.1;
}
