using System.CommandLine;
using Spectre.Console;

namespace Glassbox.Cli.Commands;

public static class InfoCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var command = new Command("info", "Config, parameter count, and every hook point with its shape.");
        m.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                var output = parse.InvocationConfiguration.Output;
                output.WriteLine(model.Config.ToString());
                output.WriteLine($"parameters: {model.ParameterCount:N0}");
                output.WriteLine($"tokenizer: {(tokenizer is null ? "none (token ids only)" : $"{tokenizer.GetType().Name}, {tokenizer.VocabSize} tokens")}");
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
                console.Profile.Width = 160;
                var table = new Table().AddColumn("hook point").AddColumn("shape");
                table.Border = TableBorder.Simple;
                foreach (var p in model.Hooks.Points) table.AddRow(Markup.Escape(p.Name), Markup.Escape(p.Shape + (p.OptIn ? "  (computed when hooked)" : "")));
                console.Write(table);
            }
            return 0;
        });
        return command;
    }
}
