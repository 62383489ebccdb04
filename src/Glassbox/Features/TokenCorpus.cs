using Glassbox.Models;
using Glassbox.Tokenization;

namespace Glassbox.Features;

/// <summary>Token sequences to stream through a model: windows of a text corpus, or text sampled from the model itself.</summary>
public static class TokenCorpus
{
    /// <summary>
    /// Consecutive, non-overlapping windows of <paramref name="length"/> tokens (BOS first when the tokenizer has one),
    /// at most <paramref name="maxSequences"/>.
    /// </summary>
    public static IReadOnlyList<long[]> FromText(ITokenizer tokenizer, string text, int length, int maxSequences)
    {
        if (length < 2) throw new GlassboxException($"Sequences need at least 2 tokens, got {length}.");
        var ids = tokenizer.Encode(text, addBos: false);
        int body = tokenizer.BosId is null ? length : length - 1;
        var sequences = new List<long[]>();
        for (int start = 0; start + body <= ids.Length && sequences.Count < maxSequences; start += body)
        {
            var window = ids.AsSpan(start, body).ToArray().Select(i => (long)i);
            sequences.Add((tokenizer.BosId is int bos ? window.Prepend(bos) : window).ToArray());
        }
        if (sequences.Count == 0) throw new GlassboxException($"The corpus has {ids.Length} tokens, fewer than one sequence of {length}.");
        return sequences;
    }

    /// <summary>
    /// <paramref name="count"/> sequences of <paramref name="length"/> tokens sampled from the model at temperature 1
    /// after <paramref name="bos"/> (sequence i with seed + i); a sample that stops early restarts after BOS, so every
    /// sequence has the full length. In-distribution text for a model whose training corpus is not at hand.
    /// </summary>
    public static IReadOnlyList<long[]> Sample(HookedTransformer model, long bos, int count, int length, int seed)
    {
        var sequences = new List<long[]>(count);
        for (int i = 0; i < count; i++)
        {
            var ids = new List<long>();
            for (int part = 0; ids.Count < length; part++)
            {
                var options = new GenerationOptions { MaxNewTokens = length - ids.Count - 1, Temperature = 1.0, Seed = unchecked(seed * 7919 + i * 131 + part) };
                ids.AddRange(Generation.Generate(model, [bos], options));
            }
            sequences.Add(ids.Take(length).ToArray());
        }
        return sequences;
    }
}
