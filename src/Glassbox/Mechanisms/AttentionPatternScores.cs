using Glassbox.Datasets;
using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Head scores read from attention patterns (Olsson et al. 2022; Wang et al. 2023), on repeated random
/// sequences <c>[BOS, r_1..r_T, r_1..r_T]</c>: previous-token <c>mean_i A[i, i−1]</c>; duplicate-token
/// <c>mean_{i ∈ repeat} A[i, i−T]</c>; induction <c>mean_{i ∈ repeat} A[i, i−T+1]</c> (the token after
/// the previous occurrence).
/// </summary>
public static class AttentionPatternScores
{
    public static (HeadScores PreviousToken, HeadScores DuplicateToken, HeadScores Induction) OnRepeatedTokens(
        HookedTransformer model, InductionDataset data, long[][] sequences)
    {
        using var scope = NewDisposeScope();
        var tokens = tensor(sequences.SelectMany(s => s).ToArray(), new long[] { sequences.Length, data.SequenceLength });
        var (_, cache) = model.RunWithCache(tokens, "blocks.*.attn.hook_pattern");
        using (cache) return OnRepeatedTokens(cache, data, model.Config.NLayers, model.Config.NHeads);
    }

    /// <summary>The same scores from a cache that holds every layer's <c>hook_pattern</c> on repeated sequences of <paramref name="data"/>.</summary>
    public static (HeadScores PreviousToken, HeadScores DuplicateToken, HeadScores Induction) OnRepeatedTokens(
        ActivationCache cache, InductionDataset data, int layers, int heads)
    {
        int T = data.HalfLength, start = data.SecondHalfStart;
        var previous = new double[layers, heads];
        var duplicate = new double[layers, heads];
        var induction = new double[layers, heads];
        for (int l = 0; l < layers; l++)
        {
            var p = cache["pattern", l]; // [batch, head, query, key]
            Fill(previous, l, Offset(p, 1, 1));
            Fill(duplicate, l, Offset(p, T, start));          // A[i, i−T] over the repeat
            Fill(induction, l, Offset(p, T - 1, start));      // A[i, i−T+1] over the repeat
        }
        return (new HeadScores("previous-token", previous), new HeadScores("duplicate-token", duplicate), new HeadScores("induction", induction));
    }

    /// <summary>Mean attention from query <c>i</c> to key <c>i − offset</c> over queries <c>i ≥ firstQuery</c> and the batch, per head: <c>[head]</c>.</summary>
    public static double[] Offset(Tensor pattern, int offset, int firstQuery)
    {
        using var scope = NewDisposeScope();
        // diagonal(−offset) holds A[j + offset, j]; query i = j + offset ≥ firstQuery.
        var diagonal = pattern.to(ScalarType.Float64).diagonal(offset: -offset, dim1: 2, dim2: 3)[.., .., Math.Max(0, firstQuery - offset)..];
        return diagonal.mean(new long[] { 0, 2 }).cpu().data<double>().ToArray();
    }

    /// <summary>
    /// Fixed-offset (positional) heads (Voita et al. 2019): for each head, the offset <c>δ = i − argmax_j A[i, j]</c> most queries
    /// <c>i ≥ firstQuery</c> share, and the fraction that do. A previous-token head has δ = 1, a current-token head δ = 0.
    /// </summary>
    public static (double[] Fraction, int[] Offset) FixedOffset(Tensor pattern, int firstQuery = 1)
    {
        using var scope = NewDisposeScope();
        long queries = pattern.shape[2];
        var argmax = pattern[.., .., firstQuery..].argmax(-1);                                         // [batch, head, query]
        var offsets = (arange(firstQuery, queries, device: pattern.device).view(1, 1, -1) - argmax).transpose(0, 1).reshape(pattern.shape[1], -1);
        int heads = (int)pattern.shape[1];
        var fraction = new double[heads];
        var offset = new int[heads];
        for (int h = 0; h < heads; h++)
        {
            var counts = offsets[h].bincount(null, queries).to(ScalarType.Float64);
            var (count, delta) = counts.max(0);
            fraction[h] = count.item<double>() / offsets.shape[1];
            offset[h] = (int)delta.item<long>();
        }
        return (fraction, offset);
    }

    /// <summary>Attention-sink mass (Xiao et al. 2023): mean attention to the first position over queries <c>i ≥ 1</c> and the batch, per head.</summary>
    public static double[] SinkMass(Tensor pattern)
    {
        using var scope = NewDisposeScope();
        return pattern.to(ScalarType.Float64)[.., .., 1.., 0].mean(new long[] { 0, 2 }).cpu().data<double>().ToArray();
    }

    /// <summary>
    /// The value half of the sink test (Xiao et al. 2023): per head, the mean norm of what position 0 would write,
    /// <c>‖v_0 W_O^h‖</c>, over the mean <c>‖v_j W_O^h‖</c> of the other positions. A sink that attracts attention while
    /// writing little scores well below 1. <paramref name="v"/> is <c>hook_v</c> [batch, pos, kv_head, d_head]; W_O [head, d_head, d_model].
    /// </summary>
    public static double[] SinkValueNorm(Tensor v, Tensor wO)
    {
        using var scope = NewDisposeScope();
        long heads = wO.shape[0], group = heads / v.shape[2];
        var perHead = v.to(ScalarType.Float64).repeat_interleave(group, dim: 2);                          // [batch, pos, head, d_head]
        var norms = einsum("bphe,hed->bphd", perHead, wO.to(ScalarType.Float64)).norm(-1, false, 2);     // [batch, pos, head]
        return (norms[.., 0].mean([0]) / norms[.., 1..].mean([0, 1])).cpu().data<double>().ToArray();
    }

    internal static void Fill(double[,] grid, int layer, double[] values)
    {
        for (int h = 0; h < values.Length; h++) grid[layer, h] = values[h];
    }

    /// <summary>
    /// Mean attention, per head, from one query position to one key position in each row of <paramref name="tokens"/>
    /// (e.g. from the end of an IOI prompt to its indirect object): <c>mean_b A[b, q_b, k_b]</c>.
    /// </summary>
    public static HeadScores Between(HookedTransformer model, Tensor tokens, IReadOnlyList<int> queries, IReadOnlyList<int> keys, string metric)
    {
        using var scope = NewDisposeScope();
        var (_, cache) = model.RunWithCache(tokens, "blocks.*.attn.hook_pattern");
        using (cache)
        {
            int L = model.Config.NLayers, H = model.Config.NHeads;
            var rows = arange(tokens.shape[0]);
            var q = tensor(queries.Select(i => (long)i).ToArray());
            var k = tensor(keys.Select(i => (long)i).ToArray());
            var values = new double[L, H];
            for (int l = 0; l < L; l++)
            {
                var p = cache["pattern", l].to(ScalarType.Float64).permute(0, 2, 3, 1); // [batch, query, key, head]
                var picked = p.index(new TensorIndex[] { TensorIndex.Tensor(rows), TensorIndex.Tensor(q), TensorIndex.Tensor(k) }).mean(new long[] { 0 });
                for (int h = 0; h < H; h++) values[l, h] = picked[h].item<double>();
            }
            return new HeadScores(metric, values);
        }
    }
}
