namespace Glassbox.Tokenization;

/// <summary>
/// The BPE rule of llama2.c and SentencePiece: repeatedly join the adjacent pair whose concatenation
/// is a vocabulary piece with the highest score (the leftmost such pair on ties) until no pair joins.
/// Pair scores are cached and only the neighbours of a merge are looked up again, so each merge
/// costs one linear scan of floats rather than a dictionary lookup per pair; a 2,000-token prompt
/// (some 8,000 characters) encodes in milliseconds.
/// </summary>
internal static class ScoredPairMerge
{
    /// <param name="symbols">Initial symbols, replaced in place by the merged ones.</param>
    /// <param name="pieces">The pieces a merge may produce, with their ids.</param>
    /// <param name="scores">Score of each id.</param>
    /// <param name="floor">Only pieces scoring strictly above this merge (llama2.c starts its search at -1e10).</param>
    /// <param name="frozen">Per symbol, whether it must not merge with a neighbour (SentencePiece user-defined pieces).</param>
    public static void Run(List<string> symbols, IReadOnlyDictionary<string, int> pieces, IReadOnlyList<float> scores,
        float floor, List<bool>? frozen = null)
    {
        float PairScore(int i)
        {
            if (frozen != null && (frozen[i] || frozen[i + 1])) return float.NegativeInfinity;
            return pieces.TryGetValue(symbols[i] + symbols[i + 1], out int id) ? scores[id] : float.NegativeInfinity;
        }

        var pairScores = new List<float>(Math.Max(symbols.Count - 1, 0));
        for (int i = 0; i + 1 < symbols.Count; i++) pairScores.Add(PairScore(i));

        while (true)
        {
            float best = floor;
            int bestIndex = -1;
            for (int i = 0; i < pairScores.Count; i++)
                if (pairScores[i] > best) { best = pairScores[i]; bestIndex = i; }
            if (bestIndex < 0) return;

            symbols[bestIndex] += symbols[bestIndex + 1];
            symbols.RemoveAt(bestIndex + 1);
            frozen?.RemoveAt(bestIndex + 1);
            pairScores.RemoveAt(bestIndex);
            if (bestIndex > 0) pairScores[bestIndex - 1] = PairScore(bestIndex - 1);
            if (bestIndex < pairScores.Count) pairScores[bestIndex] = PairScore(bestIndex);
        }
    }
}
