using Glassbox.Tokenization;
using Glassbox.Weights;
using static TorchSharp.torch;

namespace Glassbox.Mechanisms;

/// <summary>
/// Successor heads (Gould et al. 2024, arXiv 2312.09230): heads whose OV circuit maps an element of an ordinal sequence to the
/// next one ("Monday" → "Tuesday"). Score: over the tokens <c>t</c> of every ordinal class present in the vocabulary that have a
/// successor there, the fraction whose highest entry among the class's tokens, in row <c>t</c> of the full OV circuit
/// <c>N(W_E) W_OV W_U'</c>, is <c>succ(t)</c>.
/// </summary>
public static class SuccessorHeads
{
    public static IReadOnlyList<string[]> Sequences { get; } =
    [
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"],
        ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"],
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
        [.. Enumerable.Range('A', 26).Select(c => ((char)c).ToString())],
    ];

    /// <summary>
    /// Each sequence's elements as single tokens (mid-sentence form " w" preferred, else "w"), in order; an element that is not
    /// one token is dropped and breaks the chain there. Classes with fewer than three tokens are left out.
    /// </summary>
    public static IReadOnlyList<int?[]> Classes(ITokenizer tokenizer) =>
        Sequences.Select(words => words.Select(w => SingleToken(tokenizer, " " + w) ?? SingleToken(tokenizer, w)).ToArray())
            .Where(ids => ids.Count(id => id != null) >= 3).ToArray();

    static int? SingleToken(ITokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text, addBos: false);
        // An unknown word may encode as one <unk> token: only a token that decodes back to the word counts.
        return ids.Length == 1 && tokenizer.Decode(ids).Trim() == text.Trim() ? ids[0] : null;
    }

    /// <summary>Fewer successor pairs than this in the vocabulary give no score: a fraction of two pairs says nothing.</summary>
    public const int MinPairs = 5;

    /// <summary>The score per head of a layer, <c>[head]</c>, given its full OV circuit; NaN when the classes hold fewer than <see cref="MinPairs"/> successor pairs.</summary>
    public static double[] Score(FactoredMatrix fullOv, IReadOnlyList<int?[]> classes)
    {
        using var scope = NewDisposeScope();
        long heads = fullOv.Left.shape[0];
        var hits = new double[heads];
        int pairs = 0;
        foreach (var chain in classes)
        {
            var members = chain.Where(id => id != null).Select(id => (long)id!.Value).ToArray();
            var ids = tensor(members, device: fullOv.Left.device);
            var best = fullOv.RowsAt(ids).index_select(2, ids).argmax(-1).cpu().data<long>().ToArray(); // [head, n] index into members
            for (int k = 0; k + 1 < chain.Length; k++)
            {
                if (chain[k] is not int t || chain[k + 1] is not int next) continue;
                int row = Array.IndexOf(members, (long)t);
                pairs++;
                for (int h = 0; h < heads; h++)
                    if (members[best[h * members.Length + row]] == next) hits[h]++;
            }
        }
        return hits.Select(x => pairs < MinPairs ? double.NaN : x / pairs).ToArray();
    }
}
