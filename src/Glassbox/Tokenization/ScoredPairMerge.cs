namespace Glassbox.Tokenization;

/// <summary>
/// The BPE rule of llama2.c and SentencePiece: repeatedly join the adjacent pair whose concatenation
/// is a vocabulary piece with the highest score (the leftmost such pair on ties) until no pair joins.
/// llama2.c rescans every pair per merge, which is quadratic in the text; here the candidate pairs wait in a
/// priority queue ordered by (score, position) over a linked list of symbols, and a pair whose symbols have
/// changed since it was queued is skipped when it comes up, so a whole corpus encodes in O(n log n) with
/// exactly the same merges.
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
        int n = symbols.Count;
        if (n < 2) return;
        var text = symbols.ToArray();
        var next = new int[n];
        var previous = new int[n];
        var version = new int[n];
        for (int i = 0; i < n; i++) (next[i], previous[i]) = (i + 1 < n ? i + 1 : -1, i - 1);

        // Symbols keep their original order, so the smallest left index is the leftmost pair.
        var queue = new PriorityQueue<(int Left, int Right, int LeftVersion, int RightVersion), (float NegativeScore, int Left)>();
        void Offer(int left)
        {
            if (left < 0 || next[left] < 0) return;
            int right = next[left];
            if (frozen != null && (frozen[left] || frozen[right])) return;
            if (pieces.TryGetValue(text[left] + text[right], out int id) && scores[id] > floor)
                queue.Enqueue((left, right, version[left], version[right]), (-scores[id], left));
        }

        for (int i = 0; i + 1 < n; i++) Offer(i);
        while (queue.TryDequeue(out var pair, out _))
        {
            var (left, right, leftVersion, rightVersion) = pair;
            if (next[left] != right || version[left] != leftVersion || version[right] != rightVersion) continue;
            text[left] += text[right];
            version[left]++;
            version[right] = -1; // merged away
            next[left] = next[right];
            if (next[left] >= 0) previous[next[left]] = left;
            Offer(previous[left]);
            Offer(left);
        }

        // The first symbol is never merged away (merges keep the left one).
        var keptFrozen = frozen is null ? null : new List<bool>();
        symbols.Clear();
        for (int i = 0; i >= 0; i = next[i])
        {
            symbols.Add(text[i]);
            keptFrozen?.Add(frozen![i]);
        }
        if (frozen is not null)
        {
            frozen.Clear();
            frozen.AddRange(keptFrozen!);
        }
    }
}
