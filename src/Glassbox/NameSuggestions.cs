namespace Glassbox;

/// <summary>
/// Builds the "did you mean" part of a not-found message. Checkpoint names differ mostly by a prefix
/// ("transformer.h.0…" vs "h.0…") or a typo, so a suffix match counts as nearly exact and anything else
/// is ranked by edit distance.
/// </summary>
internal static class NameSuggestions
{
    public static string Describe(string name, IReadOnlyCollection<string> candidates, int max = 3)
    {
        if (candidates.Count == 0) return "there are none";
        var close = candidates
            .Select(c => (Name: c, Distance: Distance(name, c)))
            .Where(c => c.Distance <= Math.Max(2, name.Length / 3))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Take(max).Select(c => $"'{c.Name}'").ToArray();
        return close.Length > 0
            ? "did you mean " + string.Join(", ", close) + "?"
            : $"none of the {candidates.Count} is close; the first are " +
              string.Join(", ", candidates.Order(StringComparer.Ordinal).Take(max).Select(c => $"'{c}'"));
    }

    static int Distance(string a, string b)
    {
        if (a.EndsWith(b, StringComparison.Ordinal) || b.EndsWith(a, StringComparison.Ordinal)) return 1;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
