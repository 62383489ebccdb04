using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Reporting;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web.Views;

/// <summary>A head's pattern [query][key], possibly reduced to the maximum of each block of positions for an overview.</summary>
public sealed record HeadPattern(int Layer, int Head, int Size, double[][] Values);

/// <summary>
/// Every head at a glance (patterns max-pooled to at most <c>thumbnail</c> × <c>thumbnail</c>, so long prompts stay cheap and a
/// sharp diagonal still shows)
/// plus head scores as layer × head heatmaps; or, for one layer, every head's full-resolution pattern.
/// </summary>
public sealed record AttentionResult(IReadOnlyList<string> Tokens, int Layers, int Heads, int? Layer,
    IReadOnlyList<HeadPattern> Patterns, IReadOnlyList<Heatmap> Scores);

public static class AttentionView
{
    public const int DefaultThumbnail = 48;

    public static AttentionResult Compute(HookedTransformer model, ITokenizer tokenizer, long[] ids, int? layer, int thumbnail)
    {
        int L = model.Config.NLayers, H = model.Config.NHeads, n = ids.Length;
        if (layer is { } chosen && (chosen < 0 || chosen >= L))
            throw new ApiException(400, $"layer {chosen} does not exist; this model has layers 0..{L - 1}.");
        var (_, cache) = model.RunWithCache(tensor(ids).unsqueeze(0), "blocks.*.attn.hook_pattern");
        using (cache)
        {
            var tokens = ids.Select(i => tokenizer.Display((int)i)).ToArray();
            var patterns = new List<HeadPattern>();
            if (layer is { } l)
            {
                var p = cache["pattern", l][0].to(ScalarType.Float64).cpu();
                for (int h = 0; h < H; h++) patterns.Add(new HeadPattern(l, h, n, Rows(p[h])));
                return new AttentionResult(tokens, L, H, l, patterns, []);
            }
            int size = Math.Min(n, thumbnail);
            var previous = new double[L, H];
            var first = new double[L, H];
            for (int k = 0; k < L; k++)
            {
                var p = cache["pattern", k][0].to(ScalarType.Float64).cpu(); // [head, query, key]
                var pooled = size == n ? p : nn.functional.adaptive_max_pool2d(p, [size, size]);
                var prev = n > 1 ? p.diagonal(offset: -1, dim1: 1, dim2: 2).mean([1]) : zeros(H, dtype: ScalarType.Float64);
                var sink = p[.., .., 0].mean([1]);
                for (int h = 0; h < H; h++)
                {
                    patterns.Add(new HeadPattern(k, h, size, Rows(pooled[h])));
                    previous[k, h] = prev[h].item<double>();
                    first[k, h] = sink[h].item<double>();
                }
            }
            Heatmap[] scores = [new HeadScores("attention to the previous token", previous).Grid, new HeadScores("attention to the first token", first).Grid];
            return new AttentionResult(tokens, L, H, null, patterns, scores);
        }
    }

    /// <summary>A 2-D tensor as rows, rounded to 4 decimals (the eye cannot tell more, and long prompts send n² numbers).</summary>
    static double[][] Rows(Tensor matrix)
    {
        long rows = matrix.shape[0], cols = matrix.shape[1];
        var flat = matrix.contiguous().data<double>().ToArray();
        return Enumerable.Range(0, (int)rows).Select(r => Enumerable.Range(0, (int)cols).Select(c => Math.Round(flat[r * cols + c], 4)).ToArray()).ToArray();
    }
}
