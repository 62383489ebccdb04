using System.Globalization;
using System.Text;
using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>
/// A patchscope over every (source layer, target layer) pair (Ghandeharioun et al. 2024, arXiv 2401.06102, §4's layer
/// sweeps): <c>p(w | target with x^{l*}_{i*} ← x^l_i(source))</c> for one token w, and the top token of each patched run.
/// Rows: source layer l; columns: target layer l* (L = the final residual, where the row is the logit lens of x^l_i).
/// </summary>
public sealed class PatchscopeSweep : IReport
{
    PatchscopeSweep(string token, double[,] probability, string[,] top)
    {
        Token = token;
        Probability = probability;
        Top = top;
    }

    public string Token { get; }
    /// <summary>[source layer, target layer]: the probability of <see cref="Token"/> at the target position.</summary>
    public double[,] Probability { get; }
    /// <summary>[source layer, target layer]: the most probable token there.</summary>
    public string[,] Top { get; }

    public static PatchscopeSweep Run(HookedTransformer model, IReadOnlyList<long> source, IReadOnlyList<long> target, long token,
        int sourcePosition = -1, int targetPosition = -1, Func<int, string>? show = null)
    {
        int L = model.Config.NLayers;
        if (token < 0 || token >= model.Config.VocabSize) throw new GlassboxException($"Token id {token} is outside the vocabulary of {model.Config.VocabSize}.");
        int i = Patchscope.Position(sourcePosition, source.Count, "source"), iStar = Patchscope.Position(targetPosition, target.Count, "target");
        show ??= id => id.ToString();
        using var scope = NewDisposeScope();
        var states = Patchscope.SourceStates(model, source, i);
        var targetTokens = tensor(target.ToArray()).unsqueeze(0);
        var probability = new double[L, L + 1];
        var top = new string[L, L + 1];
        for (int l = 0; l < L; l++)
            for (int lStar = 0; lStar <= L; lStar++)
            {
                using var step = NewDisposeScope();
                var p = Patchscope.Patched(model, targetTokens, lStar, iStar, states[l]);
                probability[l, lStar] = p[token].to(ScalarType.Float64).item<double>();
                top[l, lStar] = show((int)p.argmax().item<long>());
            }
        return new PatchscopeSweep(show((int)token), probability, top);
    }

    static IReadOnlyList<string> Targets(int columns) => Enumerable.Range(0, columns).Select(l => l == columns - 1 ? "final" : $"L{l}").ToArray();

    public Heatmap Grid => new Heatmap($"patchscope: p({Token}) by source layer × target layer", "source layer", "target layer",
        Heatmap.Numbered("L", Probability.GetLength(0)), Targets(Probability.GetLength(1)), Probability).Validated();

    public IReadOnlyList<Heatmap> Heatmaps => [Grid];

    public string ToText()
    {
        var sb = new StringBuilder(Grid.ToTable()).Append("\ntop token of each patched run\n");
        int rows = Top.GetLength(0), columns = Top.GetLength(1);
        sb.Append($"{"source",-8}").AppendJoin("", Targets(columns).Select(t => $"{t,14}")).Append('\n');
        for (int l = 0; l < rows; l++)
            sb.Append($"{"L" + l,-8}").AppendJoin("", Enumerable.Range(0, columns).Select(c => $"{Fit(Top[l, c]),14}")).Append('\n');
        return sb.ToString();

        static string Fit(string s) => s.Length <= 13 ? s : s[..12] + "…";
    }

    public string ToCsv() => "source_layer,target_layer,probability,top\n" + string.Concat(
        from l in Enumerable.Range(0, Top.GetLength(0))
        from c in Enumerable.Range(0, Top.GetLength(1))
        select $"{l},{Targets(Top.GetLength(1))[c]},{Probability[l, c].ToString("R", CultureInfo.InvariantCulture)},{Csv.Field(Top[l, c])}\n");

    public string ToJson() => ReportJson.Serialize(new
    {
        token = Token,
        targets = Targets(Top.GetLength(1)),
        probability = Grid.RowsArray,
        top = Enumerable.Range(0, Top.GetLength(0)).Select(l => Enumerable.Range(0, Top.GetLength(1)).Select(c => Top[l, c]).ToArray()).ToArray(),
    });

    public override string ToString() => ToText();
}
