using System.Text;
using System.Text.Json;

namespace Glassbox.Mechanisms;

/// <summary>A score per attention head, [layer, head], with the name of what it measures. Prints as a table and exports JSON/CSV.</summary>
public sealed record HeadScores(string Metric, double[,] Values)
{
    public int Layers => Values.GetLength(0);
    public int Heads => Values.GetLength(1);

    public double this[int layer, int head] => Values[layer, head];

    /// <summary>The highest-scoring head.</summary>
    public (int Layer, int Head, double Score) Top() => Ranked().First();

    public IEnumerable<(int Layer, int Head, double Score)> Ranked() =>
        from l in Enumerable.Range(0, Layers) from h in Enumerable.Range(0, Heads)
        orderby Values[l, h] descending select (l, h, Values[l, h]);

    public string ToTable()
    {
        var sb = new StringBuilder($"{Metric}\nlayer " + string.Concat(Enumerable.Range(0, Heads).Select(h => $"{"H" + h,8}")) + "\n");
        for (int l = 0; l < Layers; l++)
            sb.Append($"{l,5} ").Append(string.Concat(Enumerable.Range(0, Heads).Select(h => $"{Values[l, h],8:F3}"))).Append('\n');
        return sb.ToString();
    }

    public string ToCsv() => "layer,head," + Metric + "\n" + string.Concat(
        from l in Enumerable.Range(0, Layers) from h in Enumerable.Range(0, Heads) select $"{l},{h},{Values[l, h]:R}\n");

    public string ToJson() => JsonSerializer.Serialize(new
    {
        metric = Metric,
        values = Enumerable.Range(0, Layers).Select(l => Enumerable.Range(0, Heads).Select(h => Values[l, h]).ToArray()).ToArray(),
    });

    public override string ToString() => ToTable();
}
