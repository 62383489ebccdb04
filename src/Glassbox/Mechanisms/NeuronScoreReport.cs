using System.Globalization;
using System.Text;
using Glassbox.Reporting;

namespace Glassbox.Mechanisms;

/// <summary>One MLP neuron's weight-based score, with the norm of its output weights <c>‖W_out[u]‖</c>.</summary>
public sealed record NeuronScore(int Layer, int Neuron, double OutputNorm, double Score);

/// <summary>A weight-based neuron detector's result: the highest-scoring neurons and those that meet its criterion.</summary>
public sealed record NeuronScoreReport(string Title, string ScoreName, string Criterion, IReadOnlyList<NeuronScore> Top, IReadOnlyList<NeuronScore> Flagged) : IReport
{
    public IReadOnlyList<Heatmap> Heatmaps => [];

    public string ToText()
    {
        var sb = new StringBuilder($"{Title}\nflagged ({Criterion}): ")
            .Append(Flagged.Count == 0 ? "none" : string.Join(", ", Flagged.Select(n => $"L{n.Layer}N{n.Neuron}"))).Append("\n\n")
            .Append($"{"neuron",-10}{"‖W_out‖",10}{ScoreName,12}\n");
        foreach (var n in Top)
            sb.Append($"{$"L{n.Layer}N{n.Neuron}",-10}{n.OutputNorm,10:F3}{n.Score,12:F4}\n");
        return sb.ToString();
    }

    public string ToCsv() => "layer,neuron,output_norm,score,flagged\n" + string.Concat(Top.Select(n =>
        string.Create(CultureInfo.InvariantCulture, $"{n.Layer},{n.Neuron},{n.OutputNorm:R},{n.Score:R},{Flagged.Contains(n)}\n")));

    public string ToJson() => ReportJson.Serialize(new { title = Title, scoreName = ScoreName, criterion = Criterion, top = Top, flagged = Flagged });

    public override string ToString() => ToText();
}
