using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

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
    /// after <paramref name="bos"/>, a batch at a time with a KV cache and a seeded generator (sampling goes on past
    /// an end-of-text token, as the model continues). In-distribution text for a model whose corpus is not at hand.
    /// </summary>
    public static IReadOnlyList<long[]> Sample(HookedTransformer model, long bos, int count, int length, int seed, int batch = 64)
    {
        if (length < 2 || length > model.Config.ContextLength) throw new GlassboxException($"Sequence length must be in [2, {model.Config.ContextLength}], got {length}.");
        var generator = new Generator((ulong)seed, model.Device);
        var sequences = new List<long[]>(count);
        using var _ = no_grad();
        for (int first = 0; first < count; first += batch)
        {
            int rows = Math.Min(batch, count - first);
            using var scope = NewDisposeScope();
            using var cache = new KvCache(model.Config.NLayers);
            var tokens = full([rows, 1], bos, ScalarType.Int64, model.Device);
            var next = tokens;
            for (int position = 1; position < length; position++)
            {
                using var step = NewDisposeScope();
                var logits = model.Forward(next, cache)[.., -1].to(ScalarType.Float32);
                next = multinomial(logits.softmax(-1), 1, generator: generator).MoveToOuterDisposeScope();
                tokens = cat([tokens, next], 1).MoveToOuterDisposeScope();
            }
            var data = tokens.cpu().data<long>().ToArray();
            for (int r = 0; r < rows; r++) sequences.Add(data.AsSpan(r * length, length).ToArray());
        }
        return sequences;
    }
}
