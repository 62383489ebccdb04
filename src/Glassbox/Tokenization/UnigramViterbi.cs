namespace Glassbox.Tokenization;

/// <summary>
/// SentencePiece's unigram segmentation: the split of a text into pieces whose scores (log
/// probabilities) sum highest. A character that begins no one-character piece may be taken as
/// unknown at <c>unknownScore</c>, so every text has a segmentation.
/// </summary>
internal static class UnigramViterbi
{
    /// <param name="text">Normalised text (spaces already turned into ▁).</param>
    /// <param name="pieces">Pieces that may appear in a segmentation, with their ids.</param>
    /// <param name="nodeScores">Score of choosing each id.</param>
    /// <param name="maxPieceLength">Longest piece, in UTF-16 units, bounding the search.</param>
    /// <returns>Pieces in order; id -1 marks an unknown character.</returns>
    public static List<(string Piece, int Id)> Segment(string text, Dictionary<string, int> pieces,
        IReadOnlyList<float> nodeScores, int maxPieceLength, float unknownScore)
    {
        var lookup = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        int n = text.Length;
        var best = new double[n + 1];
        var from = new int[n + 1];
        var idAt = new int[n + 1];
        Array.Fill(best, double.NegativeInfinity);
        best[0] = 0;

        bool SplitsPair(int i) => i > 0 && i < n && char.IsLowSurrogate(text[i]) && char.IsHighSurrogate(text[i - 1]);

        void Relax(int start, int end, int id, float score)
        {
            // Strictly greater: on ties the segmentation found first (earliest start) stays, as in SentencePiece.
            if (best[start] + score > best[end]) { best[end] = best[start] + score; from[end] = start; idAt[end] = id; }
        }

        for (int start = 0; start < n; start++)
        {
            if (SplitsPair(start) || double.IsNegativeInfinity(best[start])) continue;
            int charLength = SplitsPair(start + 1) ? 2 : 1;
            bool hasSingleCharacterPiece = false;
            for (int length = 1; length <= Math.Min(maxPieceLength, n - start); length++)
            {
                if (SplitsPair(start + length)) continue;
                if (!lookup.TryGetValue(text.AsSpan(start, length), out int id)) continue;
                if (length == charLength) hasSingleCharacterPiece = true;
                Relax(start, start + length, id, nodeScores[id]);
            }
            if (!hasSingleCharacterPiece) Relax(start, start + charLength, -1, unknownScore);
        }

        var result = new List<(string, int)>();
        for (int end = n; end > 0; end = from[end]) result.Add((text[from[end]..end], idAt[end]));
        result.Reverse();
        return result;
    }
}
