using Glassbox.Datasets;
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
        using (cache)
        {
            int L = model.Config.NLayers, H = model.Config.NHeads, T = data.HalfLength, start = data.SecondHalfStart;
            var previous = new double[L, H];
            var duplicate = new double[L, H];
            var induction = new double[L, H];
            for (int l = 0; l < L; l++)
            {
                var p = cache["pattern", l].to(ScalarType.Float64); // [batch, head, query, key]
                var prevDiag = p.diagonal(offset: -1, dim1: 2, dim2: 3);                 // A[i+1, i]
                var dupDiag = p.diagonal(offset: -T, dim1: 2, dim2: 3);                  // A[i+T, i]
                var indDiag = p.diagonal(offset: -(T - 1), dim1: 2, dim2: 3);            // A[i+T−1, i]
                // Keep only queries in the repeat: query q = i + offset ≥ start.
                var prev = prevDiag.mean(new long[] { 0, 2 });
                var dup = dupDiag[.., .., (start - T)..].mean(new long[] { 0, 2 });
                var ind = indDiag[.., .., (start - T + 1)..].mean(new long[] { 0, 2 });
                for (int h = 0; h < H; h++)
                {
                    previous[l, h] = prev[h].item<double>();
                    duplicate[l, h] = dup[h].item<double>();
                    induction[l, h] = ind[h].item<double>();
                }
            }
            return (new HeadScores("previous-token", previous), new HeadScores("duplicate-token", duplicate), new HeadScores("induction", induction));
        }
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
