using ScottPlot;

namespace Glassbox.Reporting;

/// <summary>ScottPlot rendering of a <see cref="Heatmap"/>: row 0 at the top, as in a printed table.</summary>
static class HeatmapPlot
{
    const int MaxAnnotatedCells = 400;
    const int CellPixels = 36;

    public static void Save(Heatmap map, string path)
    {
        var plot = new Plot();
        // ScottPlot draws row 0 at the top of the heatmap by default, with cell (r, c) centred at x = c, y = rows-1-r.
        var heat = plot.Add.Heatmap(map.Values);
        bool diverging = Diverging(map);
        heat.Colormap = diverging ? new ScottPlot.Colormaps.MellowRainbow() : new ScottPlot.Colormaps.Viridis();
        if (diverging)
        {
            double max = Enumerable.Range(0, map.Rows).SelectMany(r => Enumerable.Range(0, map.Columns).Select(c => Math.Abs(map[r, c]))).Where(double.IsFinite).DefaultIfEmpty(1).Max();
            heat.ManualRange = new ScottPlot.Range(-max, max);
        }
        plot.Add.ColorBar(heat);
        if (map.Rows * map.Columns <= MaxAnnotatedCells)
            for (int r = 0; r < map.Rows; r++)
                for (int c = 0; c < map.Columns; c++)
                {
                    var label = plot.Add.Text(map[r, c].ToString("0.##", System.Globalization.CultureInfo.InvariantCulture), c, map.Rows - 1 - r);
                    label.LabelAlignment = Alignment.MiddleCenter;
                    label.LabelFontSize = 10;
                    label.LabelFontColor = Colors.White;
                    label.LabelBackgroundColor = Colors.Black.WithAlpha(0.35);
                }
        plot.Axes.Bottom.TickGenerator = Ticks(map.ColumnLabels, i => i);
        plot.Axes.Left.TickGenerator = Ticks(map.RowLabels, i => map.Rows - 1 - i);
        plot.Axes.Bottom.TickLabelStyle.Rotation = map.ColumnLabels.Any(l => l.Length > 3) ? 45 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = map.ColumnLabels.Any(l => l.Length > 3) ? Alignment.MiddleLeft : Alignment.UpperCenter;
        plot.Title(map.Title);
        plot.XLabel(map.ColumnAxis);
        plot.YLabel(map.RowAxis);
        int width = Math.Clamp(160 + CellPixels * map.Columns, 480, 2400);
        int height = Math.Clamp(140 + CellPixels * map.Rows, 360, 2400);
        plot.SavePng(path, width, height);
    }

    /// <summary>Signed data gets a symmetric range so zero sits in the middle of the colour map.</summary>
    static bool Diverging(Heatmap map)
    {
        bool neg = false, pos = false;
        foreach (var v in map.Values) { neg |= v < 0; pos |= v > 0; }
        return neg && pos;
    }

    static ScottPlot.TickGenerators.NumericManual Ticks(IReadOnlyList<string> labels, Func<int, int> position)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int step = Math.Max(1, labels.Count / 60);
        for (int i = 0; i < labels.Count; i += step) ticks.AddMajor(position(i), labels[i]);
        return ticks;
    }
}
