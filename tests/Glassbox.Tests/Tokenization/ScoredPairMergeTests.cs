using Glassbox.Tokenization;

namespace Glassbox.Tests.Tokenization;

public class ScoredPairMergeTests
{
    /// <summary>llama2.c's rule written as it is in run.c: rescan every pair, take the first highest score, merge, repeat.</summary>
    static List<string> Reference(IEnumerable<string> start, IReadOnlyDictionary<string, int> pieces, IReadOnlyList<float> scores, float floor, List<bool>? frozen)
    {
        var symbols = start.ToList();
        var locked = frozen?.ToList();
        while (true)
        {
            float best = floor;
            int at = -1;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if ((locked is null || !locked[i] && !locked[i + 1]) && pieces.TryGetValue(symbols[i] + symbols[i + 1], out int id) && scores[id] > best)
                    (best, at) = (scores[id], i);
            if (at < 0) return symbols;
            symbols[at] += symbols[at + 1];
            symbols.RemoveAt(at + 1);
            locked?.RemoveAt(at + 1);
        }
    }

    /// <summary>
    /// Random alphabets, vocabularies and texts, with scores drawn from a handful of values so that ties are common:
    /// the queued merge gives exactly the rescanning merge's symbols, frozen symbols included.
    /// </summary>
    [Fact]
    public void MergesExactlyAsTheRescanningRuleDoes()
    {
        var random = new Random(17);
        for (int trial = 0; trial < 300; trial++)
        {
            var alphabet = "abcde".Take(2 + random.Next(4)).Select(c => c.ToString()).ToArray();
            var vocabulary = new List<string>(alphabet);
            for (int i = 0; i < 30; i++)
            {
                var piece = string.Concat(Enumerable.Range(0, 2 + random.Next(4)).Select(_ => alphabet[random.Next(alphabet.Length)]));
                if (!vocabulary.Contains(piece)) vocabulary.Add(piece);
            }
            var pieces = vocabulary.Select((p, id) => (p, id)).ToDictionary(x => x.p, x => x.id);
            var scores = vocabulary.Select(_ => (float)random.Next(-3, 3)).ToArray();
            var text = Enumerable.Range(0, random.Next(0, 60)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToList();
            var frozen = trial % 3 == 0 ? text.Select(_ => random.Next(8) == 0).ToList() : null;

            var expected = Reference(text, pieces, scores, -2.5f, frozen);
            var symbols = text.ToList();
            ScoredPairMerge.Run(symbols, pieces, scores, -2.5f, frozen);
            Assert.Equal(expected, symbols);
            if (frozen is not null) Assert.Equal(symbols.Count, frozen.Count);
        }
    }
}
