namespace Glassbox.Lens;

/// <summary>
/// How a tuned lens is trained. The paper uses SGD with Nesterov momentum for 250 steps of 2^18 tokens; Glassbox
/// reuses its AdamW (decay on the matrices only, which pulls each translator toward the identity) with a linear
/// decay, which converges in a few hundred small steps on toy models.
/// </summary>
public sealed record TunedLensTraining
{
    public int Steps { get; init; } = 300;
    /// <summary>Token positions per step, drawn at random from the cached stream.</summary>
    public int BatchTokens { get; init; } = 512;
    public double LearningRate { get; init; } = 1e-2;
    public double WeightDecay { get; init; } = 1e-3;
    public double ClipNorm { get; init; } = 1.0;
    public int Seed { get; init; }

    /// <summary>
    /// <paramref name="count"/> consecutive, non-overlapping windows of <paramref name="length"/> tokens from a corpus's ids,
    /// starting <paramref name="skip"/> windows in (so a held-out set can follow the training set).
    /// </summary>
    public static long[,] Windows(IReadOnlyList<int> ids, int length, int count, int skip = 0)
    {
        if (length <= 0 || count <= 0) throw new GlassboxException($"Need a positive window length and count, got {length} and {count}.");
        if ((long)(skip + count) * length > ids.Count)
            throw new GlassboxException($"The corpus has {ids.Count} tokens, fewer than {skip + count} windows of {length}.");
        var windows = new long[count, length];
        for (int w = 0; w < count; w++)
            for (int i = 0; i < length; i++) windows[w, i] = ids[(skip + w) * length + i];
        return windows;
    }
}
