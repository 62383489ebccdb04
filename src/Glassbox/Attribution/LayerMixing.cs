using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// What the context-mixing methods share once they have a [query, key] matrix per layer: the last query's row per
/// layer, and the rollout <c>R = C^{L−1} ⋯ C^0</c> (Abnar &amp; Zuidema 2020) whose row t mixes inputs into position t.
/// </summary>
public static class LayerMixing
{
    /// <summary>Scores = the last row of the rolled-out product; per-layer rows = the last row of the product up to each layer.</summary>
    public static StepAttribution Rollout(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        long n = layers[0].shape[0];
        var product = eye(n, dtype: ScalarType.Float64, device: layers[0].device);
        var rows = new List<Tensor>();
        foreach (var c in layers)
        {
            product = c.to(ScalarType.Float64).matmul(product);
            rows.Add(product[-1]);
        }
        return Collect(product[-1], rows);
    }

    /// <summary>Scores = the mean over layers of the last row; per-layer rows = each layer's last row.</summary>
    public static StepAttribution LastRows(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        var rows = layers.Select(c => c.to(ScalarType.Float64)[-1]).ToList();
        return Collect(stack(rows).mean([0]), rows);
    }

    /// <summary>Each row divided by its sum (rows that are all zero stay zero).</summary>
    public static Tensor RowNormalise(Tensor m)
    {
        var sums = m.sum(-1, keepdim: true);
        return m / sums.masked_fill(sums.eq(0), 1);
    }

    /// <summary>A 2-D tensor as doubles on the CPU.</summary>
    public static double[,] ToArray(Tensor m)
    {
        var values = m.to(ScalarType.Float64, CPU).contiguous().data<double>().ToArray();
        long rows = m.shape[0], cols = m.shape[1];
        var grid = new double[rows, cols];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++) grid[r, c] = values[r * cols + c];
        return grid;
    }

    static StepAttribution Collect(Tensor scores, List<Tensor> rows) =>
        new(scores.cpu().data<double>().ToArray(), ToArray(stack(rows)));
}
