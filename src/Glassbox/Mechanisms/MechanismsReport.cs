using System.Globalization;
using System.Text;
using Glassbox.Reporting;

namespace Glassbox.Mechanisms;

/// <summary>A head flagged with a label: the score that flagged it, and the causal evidence (an ablation's effect) with its verdict.</summary>
public sealed record HeadFinding(int Layer, int Head, string Label, string Metric, double Score, string? Detail,
    string? EvidenceMetric, double? EvidenceValue, string? Verdict = null)
{
    public string Name => $"L{Layer}H{Head}";
}

/// <summary>Every head of one label ablated together: the behaviour's metric clean and ablated.</summary>
public sealed record GroupEvidence(string Label, string[] Heads, string Metric, double Clean, double Ablated)
{
    public double Change => Ablated - Clean;
}

/// <summary>Next-token loss on the first (unpredictable) and second (repeated) half of the probe sequences; the drop is what induction buys.</summary>
public sealed record InductionLossEvidence(double FirstHalf, double SecondHalf)
{
    public double Drop => FirstHalf - SecondHalf;
}

/// <summary>What <see cref="MechanismDetector"/> found in one model: head scores, flagged heads with their evidence, residual-stream and neuron statistics.</summary>
public sealed record MechanismsReport(string Model, int Layers, int Heads, int Sequences, int HalfLength, InductionLossEvidence InductionLoss,
    IReadOnlyList<HeadScores> Scores, IReadOnlyList<HeadFinding> Findings, IReadOnlyList<GroupEvidence> Groups, double[] SinkMassPerLayer,
    ResidualStreamStats Residual, DeadNeurons? DeadNeurons, double? IoiAccuracy, IoiHeads? Ioi, double CompositionBaseline, int SuccessorClasses) : IReport
{
    public HeadScores Score(string metric) => Scores.FirstOrDefault(s => s.Metric == metric)
        ?? throw new GlassboxException($"The report has no score '{metric}'. Among its scores, {NameSuggestions.Describe(metric, Scores.Select(s => s.Metric).ToArray())}");

    public IEnumerable<HeadFinding> Labelled(string label) => Findings.Where(f => f.Label == label);

    public IReadOnlyList<Heatmap> Heatmaps => [.. Scores.Select(s => s.Grid)];

    static string F(double x) => x.ToString("F3", CultureInfo.InvariantCulture);

    public string ToText()
    {
        var sb = new StringBuilder($"Mechanisms in {Model}: {Layers} layers × {Heads} heads\n");
        sb.Append($"probe: {Sequences} repeated random sequences of 2 × {HalfLength} tokens\n");
        sb.Append($"loss on the first half {F(InductionLoss.FirstHalf)}, on the repeat {F(InductionLoss.SecondHalf)}: drop {F(InductionLoss.Drop)} nats/token\n");
        sb.Append("attention-sink mass per layer: ").AppendJoin("  ", SinkMassPerLayer.Select((m, l) => $"L{l} {F(m)}")).Append('\n');
        if (IoiAccuracy is double accuracy)
            sb.Append($"IOI: accuracy {F(accuracy)}").Append(Ioi is null ? " (too low for the IOI detectors)\n" : $", mean logit(IO) − logit(S) {F(Ioi.LogitDiff)} over {Ioi.Prompts} prompts\n");

        sb.Append("\nFlagged heads\n");
        sb.Append($"{"head",-6} {"label",-26} {"score",8}  {"evidence (ablation Δ)",22}  {"verdict",-20} detail\n");
        foreach (var f in Findings)
            sb.Append($"{f.Name,-6} {f.Label,-26} {F(f.Score),8}  {(f.EvidenceValue is double e ? F(e) : "—"),22}  {f.Verdict ?? "",-20} {f.Detail}\n");
        if (Groups.Count > 0)
        {
            sb.Append("\nGroup ablations (every head of a label at once)\n");
            foreach (var g in Groups)
                sb.Append($"{g.Label,-26} {string.Join(",", g.Heads),-24} {g.Metric}: {F(g.Clean)} → {F(g.Ablated)} (Δ {F(g.Change)})\n");
        }

        sb.Append("\nResidual stream (layer inputs, then the output)\n");
        sb.Append("mean norm:          ").AppendJoin(' ', Residual.MeanNorm.Select(F)).Append('\n');
        sb.Append("max |x| ÷ median:   ").AppendJoin(' ', Residual.MaxRatioToMedian.Select(x => x.ToString("F1", CultureInfo.InvariantCulture))).Append('\n');
        sb.Append($"massive activations (|x| > {ResidualStreamStats.MassiveAbsolute}, > {ResidualStreamStats.MassiveRatio} × median): ")
          .Append(Residual.Massive.Count == 0 ? "none" : string.Join("; ", Residual.Massive.Select(m => $"layer {m.Layer} pos {m.Position} dim {m.Dimension} = {m.Value:F1}")))
          .Append('\n');
        sb.Append("outlier dimensions: ").AppendJoin("  ", Residual.OutlierDimensions.Select((d, l) => $"{l}:[{string.Join(",", d)}]")).Append('\n');
        if (DeadNeurons is not null)
            sb.Append($"dead neurons (never positive over {DeadNeurons.Tokens} tokens): ").AppendJoin("  ", DeadNeurons.PerLayer.Select((n, l) => $"L{l} {n}/{DeadNeurons.NeuronsPerLayer}")).Append('\n');

        foreach (var s in Scores) sb.Append('\n').Append(s.ToTable());
        return sb.ToString();
    }

    public string ToCsv() => "layer,head,label,metric,score,evidence_metric,evidence,verdict,detail\n" + string.Concat(Findings.Select(f =>
        $"{f.Layer},{f.Head},{Csv.Field(f.Label)},{Csv.Field(f.Metric)},{f.Score:R},{Csv.Field(f.EvidenceMetric ?? "")},{f.EvidenceValue?.ToString("R", CultureInfo.InvariantCulture)},{Csv.Field(f.Verdict ?? "")},{Csv.Field(f.Detail ?? "")}\n"));

    public string ToJson() => ReportJson.Serialize(new
    {
        model = Model, layers = Layers, heads = Heads, sequences = Sequences, halfLength = HalfLength,
        inductionLoss = new { firstHalf = InductionLoss.FirstHalf, secondHalf = InductionLoss.SecondHalf, drop = InductionLoss.Drop },
        sinkMassPerLayer = SinkMassPerLayer, findings = Findings, groups = Groups,
        ioiAccuracy = IoiAccuracy, ioiLogitDiff = Ioi?.LogitDiff, compositionBaseline = CompositionBaseline, successorClasses = SuccessorClasses,
        residual = Residual, deadNeurons = DeadNeurons,
        scores = Scores.Select(s => new { metric = s.Metric, values = s.Grid.RowsArray }),
    });
}
