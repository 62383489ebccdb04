namespace Glassbox.Lens;

/// <summary>The update rule a tuned lens trains with.</summary>
public enum TunedLensOptimizer { AdamW, SgdNesterov }

/// <summary>
/// How a tuned lens is trained, with a linear learning-rate decay. The paper uses SGD with Nesterov momentum
/// (μ 0.9, learning rate 1) for 250 steps of 2^18 tokens (<see cref="TunedLensOptimizer.SgdNesterov"/>); the default is
/// AdamW (decay on the matrices only, which pulls each translator toward the identity), which converges in a few
/// hundred small steps on toy models.
/// </summary>
public sealed record TunedLensTraining
{
    public TunedLensOptimizer Optimizer { get; init; } = TunedLensOptimizer.AdamW;
    /// <summary>Nesterov momentum μ (SGD only).</summary>
    public double Momentum { get; init; } = 0.9;
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
