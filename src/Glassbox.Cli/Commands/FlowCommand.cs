using System.CommandLine;
using Glassbox.Circuits;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox flow</c>: the information flow routes (Ferrando &amp; Voita 2024) of the prediction at the last position.</summary>
public static class FlowCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var o = new OutputOptions();
        var prompt = new Option<string?>("--prompt") { Description = "prompt text (the tokenizer's BOS rule applies)" };
        var ids = new Option<string?>("--ids") { Description = "comma-separated token ids, fed as given" };
        var threshold = new Option<double>("--threshold") { Description = "τ: keep edges whose importance exceeds it", DefaultValueFactory = _ => InformationFlowRoutes.DefaultThreshold };
        var blocks = new Option<bool>("--block-level") { Description = "one attention edge per source, summed over heads" };
        var dot = new Option<string?>("--dot") { Description = "also write the graph as Graphviz DOT to this file" };
        var command = new Command("flow", "Information flow routes: the edges the last prediction's computation runs through, from one forward pass.")
            { prompt, ids, threshold, blocks, dot };
        m.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            string? text = parse.GetValue(prompt), idText = parse.GetValue(ids);
            if ((text is null) == (idText is null)) throw new GlassboxException("Give exactly one of --prompt and --ids.");
            if (text is not null && string.IsNullOrWhiteSpace(text)) throw new GlassboxException("The prompt is empty.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                var tokens = text is not null ? ModelOptions.Encode(tokenizer, text) : ModelOptions.ParseIds(idText!);
                model.CheckPromptLength(tokens.Length);
                var routes = InformationFlowRoutes.Build(model, tokens, parse.GetValue(threshold), perHead: !parse.GetValue(blocks),
                    label: id => tokenizer?.Display((int)id) ?? id.ToString());
                o.Emit(parse, routes);
                if (parse.GetValue(dot) is { } file)
                {
                    File.WriteAllText(file, routes.ToDot());
                    parse.InvocationConfiguration.Error.WriteLine($"wrote {file}");
                }
            }
            return 0;
        });
        return command;
    }
}
