using System.CommandLine;
using System.Globalization;
using Glassbox.Probing;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox steer</c>: ActAdd from a contrast prompt pair, applied at several coefficients to a prompt's generation.</summary>
public static class SteerCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var output = new OutputOptions();
        var prompt = new Option<string>("--prompt") { Description = "prompt to continue", Required = true };
        var plus = new Option<string>("--plus") { Description = "the prompt to steer toward (p⁺)", Required = true };
        var minus = new Option<string>("--minus") { Description = "the prompt to steer away from (p⁻)", Required = true };
        var layer = new Option<int>("--layer") { Description = "add at blocks.L.hook_resid_pre", Required = true };
        var coefficients = new Option<string>("--coefficients") { Description = "comma-separated coefficients c (0 is the unsteered model)", DefaultValueFactory = _ => "0,4" };
        var target = new Option<string?>("--target") { Description = "a word (one token) whose log-probability after the prompt is reported per coefficient" };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "greedy tokens to generate", DefaultValueFactory = _ => 20 }.AtLeast(0);
        var command = new Command("steer", "Steer generation with activation addition (ActAdd) from a contrast prompt pair.")
            { prompt, plus, minus, layer, coefficients, target, maxNew };
        m.AddTo(command);
        output.AddTo(command);
        command.SetAction(parse =>
        {
            var cs = ParseCoefficients(parse.GetValue(coefficients)!);
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (tokenizer is null) throw new GlassboxException("steer needs a tokenizer: pass --tokenizer PATH.");
                var filler = tokenizer.Encode(" ", addBos: false) is [var space, ..] ? space : tokenizer.EosId ?? 0;
                using var vector = ActAdd.FromPromptPair(model, ModelOptions.Encode(tokenizer, parse.GetValue(plus)!), ModelOptions.Encode(tokenizer, parse.GetValue(minus)!),
                    parse.GetValue(layer), filler);
                var word = parse.GetValue(target);
                output.Emit(parse, SteeringSweep.Run(model, ModelOptions.Encode(tokenizer, parse.GetValue(prompt)!), vector, cs, parse.GetValue(maxNew),
                    word is null ? null : ModelOptions.SingleToken(tokenizer, word, "--target"), tokenizer.Decode, word));
            }
            return 0;
        });
        return command;
    }

    static double[] ParseCoefficients(string text)
    {
        double[] values;
        try
        {
            values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new GlassboxException($"--coefficients takes comma-separated numbers, got '{text}'.");
        }
        if (values.Length == 0 || values.Any(c => !double.IsFinite(c)))
            throw new GlassboxException($"--coefficients takes comma-separated finite numbers, got '{text}'.");
        return values;
    }
}
