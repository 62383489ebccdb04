using System.Text.Json;
using Glassbox.Mechanisms;
using Glassbox.Reporting;

namespace Glassbox.Tests.Reporting;

public class ReportingTests
{
    static HeadScores Scores()
    {
        var v = new double[2, 3];
        for (int l = 0; l < 2; l++) for (int h = 0; h < 3; h++) v[l, h] = l * 10 + h - 2.5;
        return new HeadScores("test, \"quoted\"", v);
    }

    [Fact]
    public void JsonCarriesEveryValue()
    {
        using var doc = JsonDocument.Parse(Scores().ToJson());
        var rows = doc.RootElement.GetProperty("values");
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal(9.5, rows[1][2].GetDouble());
        Assert.Equal(-2.5, rows[0][0].GetDouble());
    }

    [Fact]
    public void CsvQuotesAndRoundTrips()
    {
        var lines = Scores().ToCsv().TrimEnd().Split('\n');
        Assert.Equal("layer,head,\"test, \"\"quoted\"\"\"", lines[0]);
        Assert.Equal(7, lines.Length);
        Assert.Equal("1,2,9.5", lines[^1]);
    }

    [Fact]
    public void TableShowsRowsInOrder()
    {
        var lines = Scores().ToText().Split('\n');
        Assert.StartsWith("L0", lines[2]);
        Assert.Contains("9.500", lines[3]);
    }

    [Fact]
    public void PngIsWrittenAndIsAPng()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "sub", "scores.png");
        var written = ReportWriter.Write(Scores(), ReportFormat.Png, path, TextWriter.Null);
        Assert.Equal([path], written);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    [Fact]
    public void MismatchedLabelsAndUnknownFormatsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new Heatmap("t", "r", "c", ["a"], ["x", "y"], new double[2, 2]).Validated());
        var e = Assert.Throws<GlassboxException>(() => ReportWriter.Parse("xml"));
        Assert.Contains("table, json, csv or png", e.Message);
        Assert.Throws<GlassboxException>(() => ReportWriter.Write(Scores(), ReportFormat.Png, null, TextWriter.Null));
    }
}
