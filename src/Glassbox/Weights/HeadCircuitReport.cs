using System.Globalization;
using System.Text;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Weights;

/// <summary>One entry of a full circuit: the token pair and its value.</summary>
public sealed record TokenPair(int Row, string RowToken, int Column, string ColumnToken, double Value);

/// <summary>
/// One head's weight circuits (Elhage et al. 2021; Millidge &amp; Black 2022): the copying score, the OV circuit's singular values,
/// and the token pairs with the largest entries of the full OV circuit (attending to <c>row</c> raises <c>column</c>) and of the
/// full QK circuit (query <c>row</c> attends to key <c>column</c>), as defined in <see cref="HeadCircuits"/>.
/// </summary>
public sealed record HeadCircuitReport(int Layer, int Head, double CopyingScore, double[] OvSingularValues,
    IReadOnlyList<TokenPair> TopOv, IReadOnlyList<TokenPair> TopQk) : IReport
{
    public static HeadCircuitReport Compute(HookedTransformer model, ITokenizer? tokenizer, int layer, int head, int top = 10, bool effectiveEmbedding = false)
    {
        if ((uint)layer >= model.Config.NLayers || (uint)head >= model.Config.NHeads)
            throw new GlassboxException($"Head L{layer}H{head} does not exist: the model has {model.Config.NLayers} layers of {model.Config.NHeads} heads.");
        using var scope = NewDisposeScope();
        using var circuits = new HeadCircuits(model, effectiveEmbedding);
        var fullOv = circuits.FullOV(layer);
        var ov = new FactoredMatrix(fullOv.Left[head], fullOv.Right[head]);
        var fullQk = circuits.FullQK(layer);
        var qk = new FactoredMatrix(fullQk.Left[head], fullQk.Right[head]);
        var singular = new FactoredMatrix(circuits.OV(layer).Left[head], circuits.OV(layer).Right[head]).Svd().S.cpu().data<double>().ToArray();
        string Token(long id) => tokenizer?.Display((int)id) ?? id.ToString(CultureInfo.InvariantCulture);
        IReadOnlyList<TokenPair> Pairs(FactoredMatrix m) =>
            m.TopEntries(top).Select(e => new TokenPair((int)e.Row, Token(e.Row), (int)e.Column, Token(e.Column), e.Value)).ToArray();
        return new(layer, head, circuits.CopyingScores(layer)[head], singular, Pairs(ov), Pairs(qk));
    }

    public IReadOnlyList<Heatmap> Heatmaps => [];

    public string ToText()
    {
        var sb = new StringBuilder($"L{Layer}H{Head}: copying score {CopyingScore:F3}\n");
        sb.Append("OV singular values: ").AppendJoin(' ', OvSingularValues.Take(8).Select(s => s.ToString("G4", CultureInfo.InvariantCulture))).Append('\n');
        void Table(string title, IReadOnlyList<TokenPair> pairs)
        {
            sb.Append('\n').Append(title).Append('\n');
            foreach (var p in pairs) sb.Append($"{p.Value,10:F3}  {p.RowToken} → {p.ColumnToken}\n");
        }
        Table("full OV, top pairs (attended token → raised logit)", TopOv);
        Table("full QK, top pairs (query token → key token)", TopQk);
        return sb.ToString();
    }

    public string ToCsv() => "circuit,row,row_token,column,column_token,value\n" + string.Concat(
        TopOv.Select(p => ("ov", p)).Concat(TopQk.Select(p => ("qk", p)))
            .Select(x => $"{x.Item1},{x.p.Row},{Csv.Field(x.p.RowToken)},{x.p.Column},{Csv.Field(x.p.ColumnToken)},{x.p.Value:R}\n"));

    public string ToJson() => ReportJson.Serialize(this);
}
