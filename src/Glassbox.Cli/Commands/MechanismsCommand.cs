using System.CommandLine;
using System.Diagnostics;
using Glassbox.Features;
using Glassbox.Mechanisms;
using Glassbox.Reporting;
using Glassbox.Tokenization;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox mechanisms</c>: the known heads, sinks, massive activations and dead neurons of a model, with ablation evidence.</summary>
public static class MechanismsCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var dir = new Option<string?>("--out") { Description = "write report.txt, report.json, findings.csv, PNG heatmaps and index.html into this directory" };
        var format = new Option<string>("--format") { Description = "what to print: table, json or csv", DefaultValueFactory = _ => "table" };
        var sequences = new Option<int>("--sequences") { Description = "repeated random sequences in the probe batch", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var halfLength = new Option<int>("--half-length") { Description = "tokens in each half of a probe sequence (shortened to fit the context)", DefaultValueFactory = _ => 50 }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "seed of the probe sequences", DefaultValueFactory = _ => 0 };
        var text = new Option<string?>("--text") { Description = "a text file: measure previous-token, fixed-offset and sink heads on windows of it (as they are defined) instead of on the repeated random tokens" };
        var textWindows = new Option<int>("--text-windows") { Description = "windows of 64 tokens (or the context) taken from --text", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var noAblations = new Option<bool>("--no-ablations") { Description = "skip the ablations behind the causal evidence (and the IOI probe)" };
        var command = new Command("mechanisms", "Find previous-token, induction, duplicate-token, positional, sink, copy-suppression, successor and IOI heads, "
            + "with ablation evidence, plus massive activations, outlier dimensions and dead neurons.") { dir, format, sequences, halfLength, seed, noAblations, text, textWindows };
        m.AddTo(command);
        command.SetAction(parse =>
        {
            var printed = ReportWriter.Parse(parse.GetValue(format)!);
            if (printed == ReportFormat.Png) throw new GlassboxException("The PNG heatmaps go into the --out directory; print table, json or csv.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (tokenizer is null) throw new GlassboxException("The mechanisms report needs a tokenizer: pass --tokenizer PATH.");
                var options = new MechanismOptions
                {
                    Sequences = parse.GetValue(sequences), HalfLength = parse.GetValue(halfLength), Seed = parse.GetValue(seed), Ablations = !parse.GetValue(noAblations),
                    Text = parse.GetValue(text) is { } path ? TextWindows(tokenizer, path, parse.GetValue(textWindows), Math.Min(64, model.Config.ContextLength)) : null,
                };
                var sw = Stopwatch.StartNew();
                var report = MechanismDetector.Run(model, tokenizer, options, Path.GetFileName(Path.TrimEndingDirectorySeparator(parse.GetValue(m.Model)!)));
                parse.InvocationConfiguration.Error.WriteLine($"report in {sw.Elapsed.TotalSeconds:F1} s");
                if (parse.GetValue(dir) is string directory)
                    foreach (var file in MechanismsPage.Write(report, directory)) parse.InvocationConfiguration.Error.WriteLine($"wrote {file}");
                ReportWriter.Write(report, printed, null, parse.InvocationConfiguration.Output);
            }
            return 0;
        });
        return command;
    }

    static IReadOnlyList<long[]> TextWindows(ITokenizer tokenizer, string path, int windows, int length)
    {
        if (!File.Exists(path)) throw new GlassboxException($"{path}: text file not found.");
        if (windows < 1) throw new GlassboxException($"--text-windows must be positive, got {windows}.");
        var text = File.ReadAllText(path);
        // Sub-word tokens average well under 8 characters: encode only what the windows can use.
        return TokenCorpus.FromText(tokenizer, text[..Math.Min(text.Length, windows * length * 8)], length, windows);
    }
}
