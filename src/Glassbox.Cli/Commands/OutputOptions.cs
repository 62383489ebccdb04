using System.CommandLine;
using Glassbox.Reporting;

namespace Glassbox.Cli.Commands;

/// <summary><c>--format table|json|csv|png</c> and <c>--out FILE</c>, shared by every command that returns a report.</summary>
public sealed class OutputOptions
{
    public Option<string> Format { get; } = new("--format") { Description = "table, json, csv or png", DefaultValueFactory = _ => "table" };
    public Option<string?> Out { get; } = new("--out") { Description = "write to this file instead of stdout (required for png)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Format);
        command.Options.Add(Out);
    }

    /// <summary>Writes the report; files written are named on stderr so stdout stays machine-readable.</summary>
    public void Emit(ParseResult parse, IReport report)
    {
        var format = ReportWriter.Parse(parse.GetValue(Format)!);
        foreach (var file in ReportWriter.Write(report, format, parse.GetValue(Out), parse.InvocationConfiguration.Output))
            parse.InvocationConfiguration.Error.WriteLine($"wrote {file}");
    }
}
