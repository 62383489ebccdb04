using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>One residual-stream entry far above its neighbours: where it sits and how large it is.</summary>
public sealed record MassiveActivation(int Layer, int Position, int Dimension, double Value, double RatioToMedian);

/// <summary>
/// Residual-stream phenomena at each layer's input <c>hook_resid_pre</c> (and the final <c>hook_resid_post</c>), over a batch:
/// the mean norm (its growth across layers); massive activations (Sun et al. 2024, arXiv 2402.17762): entries with
/// <c>|x| &gt; 100</c> and more than 1000 × the median <c>|x|</c> of their layer; outlier dimensions (Kovaleva et al. 2021):
/// dimensions whose mean <c>|x_k|</c> exceeds the mean over dimensions by three standard deviations.
/// </summary>
public sealed record ResidualStreamStats(double[] MeanNorm, double[] MaxRatioToMedian, IReadOnlyList<MassiveActivation> Massive, int[][] OutlierDimensions)
{
    public const double MassiveAbsolute = 100, MassiveRatio = 1000;
    const int MaxListed = 20;

    /// <summary><paramref name="cache"/> holds <c>blocks.*.hook_resid_pre</c> and the last block's <c>hook_resid_post</c>; entry l is layer l's input, the last entry the output.</summary>
    public static ResidualStreamStats Measure(ActivationCache cache, int layers) =>
        Measure([.. Enumerable.Range(0, layers).Select(l => cache["resid_pre", l]).Append(cache["resid_post", layers - 1])]);

    /// <summary>The statistics of residual streams <c>[batch, pos, d]</c>, one per layer.</summary>
    public static ResidualStreamStats Measure(IReadOnlyList<Tensor> streams)
    {
        using var scope = NewDisposeScope();
        int n = streams.Count;
        var norm = new double[n];
        var ratio = new double[n];
        var outliers = new int[n][];
        var massive = new List<MassiveActivation>();
        for (int l = 0; l < n; l++)
        {
            var x = streams[l].to(ScalarType.Float64);                         // [batch, pos, d]
            norm[l] = x.norm(-1).mean().item<double>();
            var magnitude = x.abs();
            double median = magnitude.flatten().median().item<double>();
            var peak = magnitude.amax(new long[] { 0 });                        // [pos, d]: the largest over the batch
            ratio[l] = peak.max().item<double>() / Math.Max(median, 1e-30);
            var flagged = Indices((peak > MassiveAbsolute) & (peak > MassiveRatio * median));
            for (int k = 0; k + 1 < flagged.Length && massive.Count < MaxListed; k += 2)
            {
                double value = peak[flagged[k], flagged[k + 1]].item<double>();
                massive.Add(new MassiveActivation(l, (int)flagged[k], (int)flagged[k + 1], value, value / median));
            }
            var perDimension = magnitude.mean(new long[] { 0, 1 });
            var threshold = perDimension.mean() + 3 * perDimension.std();
            outliers[l] = [.. Indices(perDimension > threshold).Select(d => (int)d)];
        }
        return new(norm, ratio, massive, outliers);
    }

    /// <summary>The flattened (row, column, …) indices of the true entries; empty when there are none.</summary>
    static long[] Indices(Tensor mask)
    {
        var found = mask.nonzero();
        return found.numel() == 0 ? [] : found.flatten().cpu().data<long>().ToArray();
    }
}
