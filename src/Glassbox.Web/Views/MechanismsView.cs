using Glassbox.Mechanisms;
using Glassbox.Reporting;

namespace Glassbox.Web.Views;

/// <summary>
/// The known-mechanism detectors' report on the loaded model (<see cref="MechanismDetector"/>, docs/mechanisms.md): every
/// per-head score as a layer × head heatmap, the flagged heads with their score, ablation evidence and verdict, and the
/// group ablations. It does not depend on the prompt: the probe is the detector's own (repeated random tokens, IOI prompts).
/// </summary>
public sealed record MechanismsResult(string Model, int Layers, int Heads, int Sequences, int HalfLength, InductionLossEvidence InductionLoss,
    IReadOnlyList<double> SinkMassPerLayer, double? IoiAccuracy, double? IoiLogitDiff, IReadOnlyList<Heatmap> Heatmaps,
    IReadOnlyList<HeadFinding> Findings, IReadOnlyList<GroupEvidence> Groups);

public static class MechanismsView
{
    public static MechanismsResult Compute(MechanismsReport r) =>
        new(r.Model, r.Layers, r.Heads, r.Sequences, r.HalfLength, r.InductionLoss, r.SinkMassPerLayer, r.IoiAccuracy, r.Ioi?.LogitDiff,
            r.Heatmaps, r.Findings, r.Groups);
}
