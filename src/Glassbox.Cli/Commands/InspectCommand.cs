using System.CommandLine;
using Glassbox.Lens;
using Glassbox.Models;
using Glassbox.Patching;
using Glassbox.Tokenization;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Cli.Commands;

/// <summary>
/// A first look at a model on one prompt: its next-token predictions, what each layer's residual stream
/// would predict (logit lens), and which heads the prediction depends on (zero-ablation of each head).
/// </summary>
public static class InspectCommand
{
    public const string DefaultPrompt = "When Mary and John went to the store , John gave a drink to";

    public static Command Create()
    {
        var m = new ModelOptions();
        var prompt = new Option<string>("--prompt") { Description = "text to inspect", DefaultValueFactory = _ => DefaultPrompt };
        var top = new Option<int>("--top") { Description = "rows per table", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var command = new Command("inspect", "Predictions, a per-layer logit lens, and the heads that matter, for one prompt.") { prompt, top };
        m.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (tokenizer is null) throw new GlassboxException("inspect needs a tokenizer: pass --tokenizer PATH.");
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
                console.Profile.Width = Math.Max(console.Profile.Width, 120);
                Render(console, model, tokenizer, parse.GetValue(prompt)!, parse.GetValue(top));
            }
            return 0;
        });
        return command;
    }

    static void Render(IAnsiConsole console, HookedTransformer model, ITokenizer tokenizer, string text, int top)
    {
        using var scope = NewDisposeScope();
        var ids = tokenizer.Encode(text).Select(i => (long)i).ToArray();
        var tokens = tensor(ids).unsqueeze(0);
        string Show(int id) => Markup.Escape($"'{tokenizer.Display(id)}'");
        console.MarkupLine($"[bold]{Markup.Escape(model.Config.ToString())}[/]");
        console.MarkupLine($"prompt ({ids.Length} tokens): {string.Join(" ", ids.Select(i => Show((int)i)))}");

        var logProbs = model.Forward(tokens)[0, -1].log_softmax(-1);
        var (values, indices) = logProbs.topk(top);
        var predictions = new Table().Title("next-token predictions").AddColumns("token", "probability");
        for (int i = 0; i < top; i++) predictions.AddRow(Show((int)indices[i].item<long>()), $"{Math.Exp(values[i].ToDouble()):P1}");
        console.Write(predictions);

        var lens = new Table().Title("logit lens at the last position").AddColumns("residual stream", "top token", "probability", "runner-up");
        foreach (var r in LogitLens.AtPosition(model, tokens, topK: 2))
            lens.AddRow(r.Layer < model.Config.NLayers ? $"resid_pre {r.Layer}" : "output", Show(r.TopTokens[0]), $"{r.TopProbabilities[0]:P1}", Show(r.TopTokens[1]));
        console.Write(lens);

        int predicted = (int)indices[0].item<long>();
        double baseline = values[0].ToDouble();
        var effects = new List<(int Layer, int Head, double Drop)>();
        for (int l = 0; l < model.Config.NLayers; l++)
            for (int h = 0; h < model.Config.NHeads; h++)
            {
                using var inner = NewDisposeScope();
                var ablated = model.RunWithHooks(tokens, Ablation.ZeroHead(l, h))[0, -1].log_softmax(-1)[predicted].ToDouble();
                effects.Add((l, h, baseline - ablated));
            }
        var heads = new Table().Title("heads that matter (zero-ablated one at a time)").AddColumns("head", $"drop in log p({Markup.Escape(tokenizer.Display(predicted))})");
        foreach (var (l, h, drop) in effects.OrderByDescending(e => e.Drop).Take(top)) heads.AddRow($"L{l}H{h}", $"{drop:F3}");
        console.Write(heads);
    }
}
