using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>One coefficient's effect: the greedy continuation and, when a target token is given, its log-probability after the prompt.</summary>
public sealed record SteeringRow(double Coefficient, long[] Continuation, string Text, double? TargetLogProbability);

/// <summary>A steering vector applied at several coefficients to one prompt (coefficient 0 is the unsteered model).</summary>
public sealed record SteeringReport(string HookName, string? Target, IReadOnlyList<SteeringRow> Rows) : IReport
{
    public IReadOnlyList<Heatmap> Heatmaps => [];

    public string ToText()
    {
        var sb = new System.Text.StringBuilder($"steering at {HookName}\n");
        foreach (var r in Rows)
            sb.Append(FormattableString.Invariant($"c = {r.Coefficient,6:G4}"))
              .Append(r.TargetLogProbability is double lp ? FormattableString.Invariant($"  log p({Target}) = {lp,8:F4}") : "")
              .Append($"  | {r.Text}\n");
        return sb.ToString();
    }

    public string ToCsv() => "coefficient,target_log_probability,continuation\n" + string.Concat(Rows.Select(r =>
        FormattableString.Invariant($"{r.Coefficient:R},{(r.TargetLogProbability is double lp ? lp.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "")},{Csv.Field(r.Text)}\n")));

    public string ToJson() => ReportJson.Serialize(new { hook = HookName, target = Target, rows = Rows });
    public override string ToString() => ToText();
}

/// <summary>Runs a prompt with a <see cref="SteeringVector"/> at each coefficient: greedy generation, and the target's log-probability at the prompt's end.</summary>
public static class SteeringSweep
{
    public static SteeringReport Run(HookedTransformer model, IReadOnlyList<long> prompt, SteeringVector vector, IReadOnlyList<double> coefficients,
        int maxNewTokens, int? target = null, Func<IEnumerable<int>, string>? decode = null, string? targetText = null)
    {
        if (prompt.Count == 0) throw new GlassboxException("The prompt is empty.");
        var rows = new List<SteeringRow>();
        foreach (double c in coefficients)
        {
            using var scope = NewDisposeScope();
            double? logProbability = target is int t
                ? model.RunWithHooks(tensor(prompt.ToArray()).unsqueeze(0), vector.Hook(c))[0, -1].to(ScalarType.Float64).log_softmax(-1)[t].item<double>()
                : null;
            var (names, fn) = vector.Hook(c);
            long[] continuation;
            using (model.Hooks.Add(names, fn))
                continuation = Generation.Generate(model, prompt, new GenerationOptions { MaxNewTokens = maxNewTokens })[prompt.Count..];
            string text = decode?.Invoke(continuation.Select(x => (int)x)) ?? string.Join(" ", continuation);
            rows.Add(new SteeringRow(c, continuation, text, logProbability));
        }
        return new SteeringReport(vector.HookName, targetText ?? target?.ToString(), rows);
    }
}
