using System.Globalization;
using System.Text;
using Glassbox.Reporting;
using Glassbox.Tokenization;

namespace Glassbox.Attribution;

/// <summary>
/// The result every attribution method returns: a target × source grid (row k scores the tokens that precede
/// target k; later sources are 0), per-layer grids where the method has them, and IG's completeness errors.
/// </summary>
public sealed class AttributionResult : IReport
{
    public AttributionResult(string method, string target, IReadOnlyList<string> sources, IReadOnlyList<string> targets,
        IReadOnlyList<StepAttribution> steps)
    {
        Method = method;
        Target = target;
        Sources = sources;
        Targets = targets;
        Steps = steps;
        Scores = new double[targets.Count, sources.Count];
        for (int k = 0; k < steps.Count; k++)
            for (int j = 0; j < steps[k].Scores.Length; j++) Scores[k, j] = steps[k].Scores[j];
    }

    public string Method { get; }
    /// <summary>The target quantity, e.g. <c>logit</c> or <c>logprob − foil</c>.</summary>
    public string Target { get; }
    public IReadOnlyList<string> Sources { get; }
    public IReadOnlyList<string> Targets { get; }
    public IReadOnlyList<StepAttribution> Steps { get; }
    /// <summary>[target, source]</summary>
    public double[,] Scores { get; }

    public Heatmap Grid => new Heatmap($"{Method} ({Target})", "target", "source", Targets, Sources, Scores).Validated();

    /// <summary>Layer × source grid of target <paramref name="step"/>, when the method has layers.</summary>
    public Heatmap? LayerGrid(int step) => Steps[step].PerLayer is { } grid
        ? new Heatmap($"{Method} per layer, target {Targets[step]}", "layer", "source", Heatmap.Numbered("L", grid.GetLength(0)),
            Sources.Take(grid.GetLength(1)).ToArray(), grid).Validated()
        : null;

    public IReadOnlyList<Heatmap> Heatmaps =>
        [Grid, .. Enumerable.Range(0, Steps.Count).Select(LayerGrid).OfType<Heatmap>()];

    public string ToText()
    {
        var sb = new StringBuilder(Grid.ToTable());
        for (int k = 0; k < Steps.Count; k++)
        {
            var s = Steps[k];
            if (s.TargetValue is { } v) sb.Append($"target {Targets[k]}: T = {v.ToString("G6", CultureInfo.InvariantCulture)}");
            if (s.CompletenessError is { } d) sb.Append($", completeness error {d.ToString("P3", CultureInfo.InvariantCulture)}{(d > 0.05 ? " (above 5%: use more steps)" : "")}");
            if (s.TargetValue is not null || s.CompletenessError is not null) sb.Append('\n');
        }
        return sb.ToString();
    }

    public string ToCsv() => Grid.ToCsv();

    public string ToJson() => ReportJson.Serialize(new
    {
        method = Method,
        target = Target,
        sources = Sources,
        targets = Targets,
        scores = Grid.RowsArray,
        targetValues = Steps.Select(s => s.TargetValue).ToArray(),
        completenessErrors = Steps.Any(s => s.CompletenessError is not null) ? Steps.Select(s => s.CompletenessError).ToArray() : null,
        perLayer = Steps.Any(s => s.PerLayer is not null) ? Enumerable.Range(0, Steps.Count).Select(k => LayerGrid(k)?.RowsArray).ToArray() : null,
    });

    /// <summary>
    /// Sums the source columns of each span into one (Inseq's subword and span aggregation, with sum): additive scores keep
    /// every row's total, so integrated gradients' completeness and ALTI's rows summing to one survive it. Per-layer grids
    /// are summed the same way; target rows stay per token. <paramref name="spanOfSource"/> gives each source's span
    /// (from 0, non-decreasing, e.g. <see cref="WordSpans.Of"/>), <paramref name="spanLabels"/> names the spans.
    /// </summary>
    public AttributionResult AggregateSources(IReadOnlyList<int> spanOfSource, IReadOnlyList<string> spanLabels)
    {
        if (spanOfSource.Count < Sources.Count
            || !Enumerable.Range(0, Sources.Count).All(j => j == 0 ? spanOfSource[0] == 0 : spanOfSource[j] - spanOfSource[j - 1] is 0 or 1))
            throw new GlassboxException($"Spans must number the {Sources.Count} sources from 0 in order, one span after another.");
        int spans = Sources.Count == 0 ? 0 : spanOfSource[Sources.Count - 1] + 1;
        if (spanLabels.Count < spans) throw new GlassboxException($"{spans} spans but {spanLabels.Count} labels.");
        double[] Sum(Func<int, double> column, int length)
        {
            var sums = new double[length == 0 ? 0 : spanOfSource[length - 1] + 1];
            for (int j = 0; j < length; j++) sums[spanOfSource[j]] += column(j);
            return sums;
        }
        var steps = Steps.Select(s =>
        {
            double[,]? perLayer = null;
            if (s.PerLayer is { } grid)
            {
                int layers = grid.GetLength(0), width = grid.GetLength(1);
                var rows = Enumerable.Range(0, layers).Select(l => Sum(j => grid[l, j], width)).ToArray();
                perLayer = new double[layers, rows.Length == 0 ? 0 : rows[0].Length];
                for (int l = 0; l < layers; l++) for (int w = 0; w < rows[l].Length; w++) perLayer[l, w] = rows[l][w];
            }
            return s with { Scores = Sum(j => s.Scores[j], s.Scores.Length), PerLayer = perLayer };
        }).ToArray();
        var labels = Enumerable.Range(0, spans).Select(w => $"{Enumerable.Range(0, Sources.Count).First(j => spanOfSource[j] == w)}:{spanLabels[w]}").ToArray();
        return new AttributionResult(Method, Target, labels, Targets, steps);
    }

    /// <summary><see cref="AggregateSources"/> over the words of <paramref name="tokens"/>, the prompt and continuation the sources came from.</summary>
    public AttributionResult AggregateWords(ITokenizer tokenizer, IReadOnlyList<long> tokens)
    {
        var words = WordSpans.Of(tokenizer, tokens);
        return AggregateSources(words, WordSpans.Labels(tokenizer, tokens, words));
    }

    public override string ToString() => ToText();
}
