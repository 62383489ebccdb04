using Glassbox.Tokenization;

namespace Glassbox.Datasets;

/// <summary>
/// Repeated random tokens, <c>[BOS] r_1..r_T r_1..r_T</c>, the probe input for induction and
/// duplicate-token heads (Elhage et al. 2021; Olsson et al. 2022, arXiv 2209.11895): a model with
/// induction heads predicts the second copy well and the first not at all, and the second occurrence
/// of <c>r_k</c> sits at <c>SecondHalfStart + k − 1</c>, exactly <see cref="HalfLength"/> after the first.
/// </summary>
public sealed class InductionDataset
{
    readonly int? bos;

    /// <param name="halfLength">T, the number of random tokens repeated.</param>
    /// <param name="tokenIds">The ids to draw from (e.g. <c>Enumerable.Range(a, n)</c>); by default every id except
    /// BOS, EOS and those that decode to nothing on their own (unknown, padding and other special tokens).</param>
    /// <param name="prependBos">Whether sequences start with BOS; by default when the tokenizer has one (GPT-2 included, as in TransformerLens).</param>
    public InductionDataset(ITokenizer tokenizer, int halfLength = 50, IEnumerable<int>? tokenIds = null, bool? prependBos = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(halfLength, 1);
        if (prependBos == true && tokenizer.BosId == null) throw new GlassboxException("A BOS token was asked for, but the tokenizer has none.");
        bos = prependBos != false ? tokenizer.BosId : null;
        HalfLength = halfLength;
        TokenIds = (tokenIds ?? Enumerable.Range(0, tokenizer.VocabSize)
            .Where(id => id != tokenizer.BosId && id != tokenizer.EosId && tokenizer.Decode([id]).Length > 0)).ToArray();
        if (TokenIds.Count == 0) throw new ArgumentException("There are no tokens to draw from.", nameof(tokenIds));
        if (TokenIds.Any(id => (uint)id >= (uint)tokenizer.VocabSize))
            throw new ArgumentOutOfRangeException(nameof(tokenIds), $"Token id outside the vocabulary of {tokenizer.VocabSize}.");
    }

    /// <summary>T, the length of each copy.</summary>
    public int HalfLength { get; }

    /// <summary>The position of <c>r_1</c>'s first occurrence: 1 after a BOS, else 0.</summary>
    public int FirstHalfStart => bos == null ? 0 : 1;

    /// <summary>The position of <c>r_1</c>'s second occurrence.</summary>
    public int SecondHalfStart => FirstHalfStart + HalfLength;

    public int SequenceLength => SecondHalfStart + HalfLength;

    /// <summary>The ids the random tokens are drawn from, uniformly and independently.</summary>
    public IReadOnlyList<int> TokenIds { get; }

    /// <summary><paramref name="batchSize"/> sequences of <see cref="SequenceLength"/> ids from <paramref name="seed"/>.</summary>
    public long[][] Generate(int batchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        var random = new Random(seed);
        var batch = new long[batchSize][];
        for (int b = 0; b < batchSize; b++)
        {
            var sequence = batch[b] = new long[SequenceLength];
            if (bos != null) sequence[0] = bos.Value;
            for (int k = 0; k < HalfLength; k++)
                sequence[FirstHalfStart + k] = sequence[SecondHalfStart + k] = TokenIds[random.Next(TokenIds.Count)];
        }
        return batch;
    }
}
