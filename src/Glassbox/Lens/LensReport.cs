using System.Globalization;
using System.Text;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>One lens reading: a decoded row (layer or component) at one position.</summary>
/// <param name="TargetRank">1 for the most probable token.</param>
public sealed record LensCell(int[] TopTokens, double[] TopProbabilities, double Entropy, double KlToFinal,
    double? TargetProbability, int? TargetRank);

/// <summary>
/// What a lens (logit, tuned) reads from every row × position of one prompt: top-k tokens, entropy (nats),
/// <c>KL(p_final ‖ p_row)</c> (nats), and the probability and rank of an optional target token.
/// </summary>
public sealed class LensReport : IReport
{
    LensReport(string lens, IReadOnlyList<string> rows, IReadOnlyList<string> positions, LensCell[,] cells, int? target, string? targetText,
        Func<int, string> show)
    {
        (Lens, Rows, Positions, Cells, Target, TargetText, this.show) = (lens, rows, positions, cells, target, targetText, show);
    }

    readonly Func<int, string> show;

    public string Lens { get; }
    /// <summary>Row labels: <c>resid_pre l</c> (optionally <c>attn_out l</c>, <c>mlp_out l</c>) and <c>output</c>.</summary>
    public IReadOnlyList<string> Rows { get; }
    /// <summary>Column labels: the prompt's tokens.</summary>
    public IReadOnlyList<string> Positions { get; }
    public LensCell[,] Cells { get; }
    public int? Target { get; }
    public string? TargetText { get; }

    public LensCell this[int row, int position] => Cells[row, position];

    /// <summary>
    /// Reads every row: <paramref name="rowLogits"/>(r) gives logits [pos, d_vocab] for row r; the statistics are taken in
    /// float64 against <paramref name="finalLogits"/> [pos, d_vocab], one row at a time so memory stays O(pos·d_vocab).
    /// </summary>
    public static LensReport Build(string lens, IReadOnlyList<string> rows, Func<int, Tensor> rowLogits, Tensor finalLogits,
        IReadOnlyList<string> positions, Func<int, string> show, int topK, int? target)
    {
        using var scope = NewDisposeScope();
        var finalLogP = finalLogits.to(ScalarType.Float64, CPU).log_softmax(-1);
        var finalP = finalLogP.exp();
        int nPos = (int)finalLogits.shape[0];
        int vocab = (int)finalLogits.shape[1];
        if (target is int t && (t < 0 || t >= vocab)) throw new GlassboxException($"Target token id {t} is outside the vocabulary [0, {vocab}).");
        int k = Math.Min(topK, vocab);
        var cells = new LensCell[rows.Count, nPos];
        for (int r = 0; r < rows.Count; r++)
        {
            using var inner = NewDisposeScope();
            var logP = rowLogits(r).to(ScalarType.Float64, CPU).log_softmax(-1);
            var p = logP.exp();
            var entropy = (-(p * logP).sum(-1)).data<double>().ToArray();
            var kl = (finalP * (finalLogP - logP)).sum(-1).data<double>().ToArray();
            var (values, indices) = p.topk(k);
            var topP = values.data<double>().ToArray();
            var topIds = indices.data<long>().ToArray();
            double[]? targetP = null;
            long[]? targetRank = null;
            if (target is int tt)
            {
                var pt = p[.., tt];
                targetP = pt.data<double>().ToArray();
                targetRank = ((p > pt.unsqueeze(-1)).sum(-1) + 1).data<long>().ToArray();
            }
            for (int i = 0; i < nPos; i++)
                cells[r, i] = new LensCell(topIds.Skip(i * k).Take(k).Select(x => (int)x).ToArray(), topP.Skip(i * k).Take(k).ToArray(),
                    entropy[i], kl[i], targetP?[i], targetRank is null ? null : (int)targetRank[i]);
        }
        return new LensReport(lens, rows, positions, cells, target, target is int id ? show(id) : null, show);
    }

    Heatmap Grid(string title, Func<LensCell, double> value)
    {
        var v = new double[Rows.Count, Positions.Count];
        for (int r = 0; r < Rows.Count; r++)
            for (int i = 0; i < Positions.Count; i++) v[r, i] = value(Cells[r, i]);
        return new Heatmap($"{Lens}: {title}", "row", "position", Rows, Positions, v).Validated();
    }

    public Heatmap KlGrid => Grid("KL(final ‖ row), nats", c => c.KlToFinal);
    public Heatmap EntropyGrid => Grid("entropy, nats", c => c.Entropy);
    public Heatmap TopProbabilityGrid => Grid("top-1 probability", c => c.TopProbabilities[0]);
    public Heatmap? TargetGrid => Target is null ? null : Grid($"p('{TargetText}')", c => c.TargetProbability!.Value);

    public IReadOnlyList<Heatmap> Heatmaps => TargetGrid is { } tg ? [KlGrid, tg, EntropyGrid] : [KlGrid, TopProbabilityGrid, EntropyGrid];

    public string ToText()
    {
        int labelWidth = Math.Max(3, Rows.Max(r => r.Length));
        const int width = 12;
        var sb = new StringBuilder($"{Lens}: top-1 token per row × position\n").Append("row".PadRight(labelWidth));
        foreach (var p in Positions) sb.Append(Fit(p).PadLeft(width));
        sb.Append('\n');
        for (int r = 0; r < Rows.Count; r++)
        {
            sb.Append(Rows[r].PadRight(labelWidth));
            for (int i = 0; i < Positions.Count; i++) sb.Append(Fit(show(Cells[r, i].TopTokens[0])).PadLeft(width));
            sb.Append('\n');
        }
        sb.Append('\n').Append(KlGrid.ToTable());
        if (TargetGrid is { } tg) sb.Append('\n').Append(tg.ToTable(4));
        return sb.ToString();

        static string Fit(string s) => s.Length <= 11 ? s : s[..10] + "…";
    }

    public string ToCsv()
    {
        var sb = new StringBuilder("row,position,token,top1,top1_probability,entropy,kl_to_final,target_probability,target_rank\n");
        for (int r = 0; r < Rows.Count; r++)
            for (int i = 0; i < Positions.Count; i++)
            {
                var c = Cells[r, i];
                sb.Append(Csv.Field(Rows[r])).Append(',').Append(i).Append(',').Append(Csv.Field(Positions[i])).Append(',')
                  .Append(Csv.Field(show(c.TopTokens[0]))).Append(',').Append(F(c.TopProbabilities[0])).Append(',').Append(F(c.Entropy)).Append(',')
                  .Append(F(c.KlToFinal)).Append(',').Append(c.TargetProbability is double tp ? F(tp) : "").Append(',')
                  .Append(c.TargetRank?.ToString(CultureInfo.InvariantCulture) ?? "").Append('\n');
            }
        return sb.ToString();

        static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
    }

    public string ToJson() => ReportJson.Serialize(new
    {
        lens = Lens,
        rows = Rows,
        positions = Positions,
        target = Target,
        targetText = TargetText,
        cells = Enumerable.Range(0, Rows.Count).Select(r => Enumerable.Range(0, Positions.Count).Select(i =>
        {
            var c = Cells[r, i];
            return new
            {
                top = c.TopTokens.Zip(c.TopProbabilities, (id, p) => new { id, token = show(id), probability = p }),
                entropy = c.Entropy,
                klToFinal = c.KlToFinal,
                targetProbability = c.TargetProbability,
                targetRank = c.TargetRank,
            };
        })),
    });

    public override string ToString() => ToText();
}
