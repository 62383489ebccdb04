using System.Text;
using Glassbox.Reporting;
using Glassbox.Tokenization;

namespace Glassbox.Features;

/// <summary>A top-activating context as text: the tokens before the peak, the peak token, and a few after.</summary>
public sealed record ContextView(double Activation, long Sequence, int Position, string Before, string Token, string After);

/// <summary>
/// What one unit (a neuron or an SAE latent) responds to and does: its density, the tokens its reading weights favour
/// (neurons), the tokens its writing direction promotes and suppresses, and its top-activating contexts.
/// </summary>
public sealed record UnitView(int Unit, double? Density, TokenProjection? Input, TokenProjection Output, IReadOnlyList<ContextView> Examples);

/// <summary>The views of several units of one source (the data behind the web viewer's feature pages).</summary>
public sealed record UnitViews(string Source, IReadOnlyList<UnitView> Units, DensityHistogram? Histogram) : IReport
{
    const int ContextBefore = 10, ContextAfter = 3;

    /// <summary>Views of <paramref name="units"/>: projections computed by the caller, examples and densities from the store when given.</summary>
    public static UnitViews Build(string source, IReadOnlyList<int> units, IReadOnlyList<TokenProjection>? inputs, IReadOnlyList<TokenProjection> outputs,
        MaxActivationStore? store, ITokenizer? tokenizer, int examples)
    {
        var densities = store?.Densities();
        string Text(IEnumerable<long> ids) => string.Concat(ids.Select(id => tokenizer?.Display((int)id) ?? $"#{id} "));
        var views = units.Select((unit, i) => new UnitView(unit, densities?[unit], inputs?[i], outputs[i],
            (store?.Top(unit) ?? []).Take(examples).Select(e => new ContextView(e.Activation, e.Sequence, e.Position,
                Text(e.Tokens.Take(e.Position).TakeLast(ContextBefore)), Text([e.Tokens[e.Position]]),
                Text(e.Tokens.Skip(e.Position + 1).Take(ContextAfter)))).ToList())).ToList();
        return new UnitViews(source, views, store?.Histogram());
    }

    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var u in Units)
        {
            text.AppendLine($"{Source} unit {u.Unit}" + (u.Density is double d ? $"  density {d:P3}" : ""));
            if (u.Input is { } input) text.AppendLine("  reads   " + Tokens(input.Top));
            text.AppendLine("  promotes " + Tokens(u.Output.Top));
            text.AppendLine("  suppresses " + Tokens(u.Output.Bottom));
            foreach (var e in u.Examples) text.AppendLine($"  {e.Activation,9:F3}  {e.Before}[[{e.Token}]]{e.After}".Replace("\n", "\\n"));
        }
        if (Histogram is { } h) text.AppendLine("density histogram (log10 firing rate):").Append(h.ToText());
        return text.ToString();
    }

    static string Tokens(IEnumerable<TokenScore> scores) => string.Join("  ", scores.Select(s => $"{s.Token.Replace("\n", "\\n")} ({s.Value:F2})"));

    public string ToCsv() => "unit,density,rank,activation,sequence,position,token,context\n" + string.Concat(
        from u in Units from e in u.Examples.Select((e, r) => (e, r))
        select $"{u.Unit},{u.Density:R},{e.r},{e.e.Activation:R},{e.e.Sequence},{e.e.Position},{Csv.Field(e.e.Token)},{Csv.Field(e.e.Before + "[[" + e.e.Token + "]]" + e.e.After)}\n");

    public string ToJson() => ReportJson.Serialize(new { source = Source, units = Units, densityHistogram = Histogram });

    public IReadOnlyList<Heatmap> Heatmaps => Histogram is { } h ? [h.ToHeatmap()] : [];
}
