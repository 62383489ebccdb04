using System.CommandLine;
using Glassbox.Patching;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox knockout</c>: attention knockout from the prediction to each source position (or given sets), per layer window.</summary>
public static class KnockoutCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var t = new TaskOptions();
        var o = new OutputOptions();
        var window = new Option<int>("--window") { Description = "layers blocked together, [l, l + k)", DefaultValueFactory = _ => 1 };
        var sources = new Option<string[]>("--sources") { Description = "a set of source positions blocked together, e.g. 3,4 (repeatable; default: each position alone)" };
        var command = new Command("knockout", "Attention knockout (Geva et al. 2023): cut the prediction's attention to source positions in a window of layers; change in the metric.")
            { window, sources };
        m.AddTo(command);
        t.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var sets = (parse.GetValue(sources) ?? []).Select(Parse).ToList();
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                using var task = t.Build(parse, tokenizer, cleanOnly: true);
                o.Emit(parse, AttentionKnockout.Run(model, task.Clean, task.Metric, parse.GetValue(window), sets.Count > 0 ? sets : null));
            }
            return 0;
        });
        return command;
    }

    static KnockoutSources Parse(string text)
    {
        var positions = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.TryParse(p, out int v) ? v : throw new GlassboxException($"--sources '{text}': '{p}' is not a position.")).ToArray();
        return positions.Length > 0 ? new KnockoutSources(text, positions) : throw new GlassboxException("--sources needs at least one position.");
    }
}
