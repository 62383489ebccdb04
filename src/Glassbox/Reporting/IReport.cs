namespace Glassbox.Reporting;

/// <summary>
/// What every technique returns: a typed result that prints itself, exports JSON and CSV, and exposes its grids
/// for PNG rendering and the web viewer. Techniques add their own typed members; this is the common surface.
/// </summary>
public interface IReport
{
    /// <summary>Human-readable terminal output (tables, top-k lists).</summary>
    string ToText();

    /// <summary>Machine-readable JSON with every number the report holds.</summary>
    string ToJson();

    /// <summary>CSV of the report's main table.</summary>
    string ToCsv();

    /// <summary>The grids to render as images; empty when the report has none.</summary>
    IReadOnlyList<Heatmap> Heatmaps { get; }
}
