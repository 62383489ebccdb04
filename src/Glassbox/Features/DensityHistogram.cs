using System.Text;
using Glassbox.Reporting;

namespace Glassbox.Features;

/// <summary>
/// How many units (neurons or SAE latents) fire at each rate: counts of log₁₀ density in half-decade bins from
/// 10⁻⁷ to 1, plus the units that never fired. Dead units pile up on the left, dense ones on the right.
/// </summary>
public sealed record DensityHistogram(double[] BinLowerEdges, int[] Counts, int Dead)
{
    const double Lowest = -7, Width = 0.5;

    public static DensityHistogram Of(IEnumerable<double> densities)
    {
        int bins = (int)(-Lowest / Width);
        var counts = new int[bins];
        int dead = 0;
        foreach (double d in densities)
        {
            if (d <= 0) { dead++; continue; }
            int bin = (int)Math.Floor((Math.Log10(d) - Lowest) / Width);
            counts[Math.Clamp(bin, 0, bins - 1)]++;
        }
        return new DensityHistogram(Enumerable.Range(0, bins).Select(b => Lowest + b * Width).ToArray(), counts, dead);
    }

    public string ToText()
    {
        int max = Math.Max(1, Math.Max(Dead, Counts.DefaultIfEmpty(0).Max()));
        var text = new StringBuilder($"  {"dead",-12} {Dead,6} {new string('#', (int)Math.Ceiling(40.0 * Dead / max))}\n");
        for (int b = 0; b < Counts.Length; b++)
            text.AppendLine($"  {$"[{BinLowerEdges[b]:0.0}, {BinLowerEdges[b] + Width:0.0})",-12} {Counts[b],6} {new string('#', (int)Math.Ceiling(40.0 * Counts[b] / max))}");
        return text.ToString();
    }

    public Heatmap ToHeatmap()
    {
        var values = new double[1, Counts.Length + 1];
        values[0, 0] = Dead;
        for (int b = 0; b < Counts.Length; b++) values[0, b + 1] = Counts[b];
        return new Heatmap("units per log10 density bin", "", "log10 density", ["units"], ["dead", .. BinLowerEdges.Select(e => $"{e:0.0}")], values).Validated();
    }
}
