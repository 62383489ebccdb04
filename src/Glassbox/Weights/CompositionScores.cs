using Glassbox.Models;
using Glassbox.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Weights;

/// <summary>
/// Q-, K- and V-composition between every head <c>h1</c> of an earlier layer and every head <c>h2</c> of a later one, from the
/// weights alone (Elhage et al. 2021): <c>‖W_OV¹ X‖_F / (‖W_OV¹‖_F ‖X‖_F)</c> with <c>X = W_QK²</c> (Q), <c>W_QK²ᵀ</c> (K) or
/// <c>W_OV²</c> (V), norms folded (<see cref="HeadCircuits"/>), computed in the <c>d_head</c> space by <see cref="FactoredMatrix"/>.
/// The baseline is the mean score of 100 pairs of Gaussian matrices of the same shapes.
/// </summary>
public sealed record CompositionScores(Heatmap Q, Heatmap K, Heatmap V, double Baseline) : IReport
{
    public const int BaselineSamples = 100;

    public static CompositionScores Compute(HookedTransformer model, int seed = 0)
    {
        using var scope = NewDisposeScope();
        using var circuits = new HeadCircuits(model);
        int L = model.Config.NLayers, H = model.Config.NHeads, writers = (L - 1) * H, readers = (L - 1) * H;
        double[,] q = Filled(writers, readers), k = Filled(writers, readers), v = Filled(writers, readers);
        var ov = Enumerable.Range(0, L).Select(circuits.OV).ToArray();
        var qk = Enumerable.Range(0, L).Select(circuits.QK).ToArray();
        for (int l1 = 0; l1 < L - 1; l1++)
            for (int l2 = l1 + 1; l2 < L; l2++)
            {
                Copy(Scores(ov[l1], qk[l2]), q, l1, l2, H);
                Copy(Scores(ov[l1], qk[l2].Transpose()), k, l1, l2, H);
                Copy(Scores(ov[l1], ov[l2]), v, l1, l2, H);
            }
        var writerLabels = HeadLabels(0, L - 1, H);
        var readerLabels = HeadLabels(1, L, H);
        Heatmap Grid(string kind, double[,] values) => new Heatmap($"{kind}-composition", "writer head", "reader head", writerLabels, readerLabels, values).Validated();
        return new(Grid("Q", q), Grid("K", k), Grid("V", v), RandomBaseline(model, seed));
    }

    /// <summary><c>‖A_i B_j‖ / (‖A_i‖ ‖B_j‖)</c> for every pair of a stack of writers <c>A</c> and readers <c>B</c>, <c>[writers, readers]</c>.</summary>
    public static Tensor Scores(FactoredMatrix writers, FactoredMatrix readers)
    {
        var a = new FactoredMatrix(writers.Left.unsqueeze(1), writers.Right.unsqueeze(1));
        var b = new FactoredMatrix(readers.Left.unsqueeze(0), readers.Right.unsqueeze(0));
        return a.Then(b).FrobeniusNorm() / (a.FrobeniusNorm() * b.FrobeniusNorm());
    }

    /// <summary>The mean score of random Gaussian factors shaped like the model's <c>[d, d_head] × [d_head, d]</c> circuits.</summary>
    static double RandomBaseline(HookedTransformer model, int seed)
    {
        long d = model.Config.DModel, dh = model.Config.DHead;
        var g = new Generator((ulong)seed, model.W_E.device);
        Tensor Gaussian(long rows, long columns) => randn(new long[] { BaselineSamples, rows, columns }, ScalarType.Float64, model.W_E.device, generator: g);
        var a = new FactoredMatrix(Gaussian(d, dh), Gaussian(dh, d));
        var b = new FactoredMatrix(Gaussian(d, dh), Gaussian(dh, d));
        return (a.Then(b).FrobeniusNorm() / (a.FrobeniusNorm() * b.FrobeniusNorm())).mean().item<double>();
    }

    static double[,] Filled(int rows, int columns)
    {
        var values = new double[rows, columns];
        for (int r = 0; r < rows; r++) for (int c = 0; c < columns; c++) values[r, c] = double.NaN;
        return values;
    }

    static void Copy(Tensor scores, double[,] into, int writerLayer, int readerLayer, int heads)
    {
        var s = scores.cpu().data<double>().ToArray();
        for (int h1 = 0; h1 < heads; h1++)
            for (int h2 = 0; h2 < heads; h2++)
                into[writerLayer * heads + h1, (readerLayer - 1) * heads + h2] = s[h1 * heads + h2];
    }

    static IReadOnlyList<string> HeadLabels(int fromLayer, int toLayer, int heads) =>
        (from l in Enumerable.Range(fromLayer, toLayer - fromLayer) from h in Enumerable.Range(0, heads) select $"L{l}H{h}").ToArray();

    /// <summary>The score between writer head (l1, h1) and reader head (l2, h2), l1 &lt; l2.</summary>
    public static double At(Heatmap grid, int heads, int l1, int h1, int l2, int h2) => grid[l1 * heads + h1, (l2 - 1) * heads + h2];

    /// <summary>The writer with the highest score into reader (l2, h2).</summary>
    public static (int Layer, int Head, double Score) TopWriter(Heatmap grid, int heads, int l2, int h2) =>
        (from l1 in Enumerable.Range(0, l2) from h1 in Enumerable.Range(0, heads)
         let s = At(grid, heads, l1, h1, l2, h2) orderby s descending select (l1, h1, s)).First();

    public IReadOnlyList<Heatmap> Heatmaps => [Q, K, V];

    public string ToText() => $"{Q.ToTable()}\n{K.ToTable()}\n{V.ToTable()}\nrandom baseline (mean of {BaselineSamples} Gaussian pairs): {Baseline:F3}\n";

    public string ToCsv() => "kind,writer,reader,score\n" + string.Concat(
        from grid in Heatmaps from r in Enumerable.Range(0, grid.Rows) from c in Enumerable.Range(0, grid.Columns)
        where !double.IsNaN(grid[r, c])
        select $"{grid.Title[0]},{grid.RowLabels[r]},{grid.ColumnLabels[c]},{grid[r, c]:R}\n");

    public string ToJson() => ReportJson.Serialize(new { q = Q, k = K, v = V, baseline = Baseline });
}
