using System.CommandLine;
using System.Text.Json;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Cli.Commands;

public static class ScoreCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var text = new Option<string?>("--text") { Description = "text to score (the tokenizer's BOS rule applies)" };
        var ids = new Option<string?>("--ids") { Description = "comma-separated token ids, fed as given" };
        var json = new Option<bool>("--json") { Description = "print {\"tokens\", \"logprobs\", \"nll\"}" };
        var command = new Command("score", "Per-token log-probabilities log p(t[i+1] | t[..i]) and their mean negative log-likelihood.") { text, ids, json };
        m.AddTo(command);
        command.SetAction(parse =>
        {
            string? t = parse.GetValue(text), i = parse.GetValue(ids);
            if ((t is null) == (i is null)) throw new GlassboxException("Give exactly one of --text and --ids.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                var tokens = t is not null ? ModelOptions.Encode(tokenizer, t) : ModelOptions.ParseIds(i!);
                if (tokens.Length < 2) throw new GlassboxException($"Scoring needs at least two tokens; the input has {tokens.Length}.");
                var logprobs = TokenLogProbs(model, tokens);
                double nll = -logprobs.Average();
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new { tokens, logprobs, nll }));
                    return 0;
                }
                for (int k = 0; k < logprobs.Length; k++)
                {
                    var shown = tokenizer?.Display((int)tokens[k + 1]) ?? tokens[k + 1].ToString();
                    output.WriteLine($"{k + 1,5}  {tokens[k + 1],7}  {logprobs[k],10:F4}  {JsonSerializer.Serialize(shown)}");
                }
                output.WriteLine($"mean NLL {nll:F4} nats/token over {logprobs.Length} predictions");
            }
            return 0;
        });
        return command;
    }

    /// <summary>log p(tokens[i+1] | tokens[..i]) for each i.</summary>
    public static double[] TokenLogProbs(HookedTransformer model, long[] tokens)
    {
        using var scope = NewDisposeScope();
        var input = tensor(tokens).unsqueeze(0);
        var logp = model.Forward(input).log_softmax(-1)[0, ..^1].to(ScalarType.Float64, CPU);
        var next = tensor(tokens[1..]).unsqueeze(1);
        return logp.gather(1, next).squeeze(1).data<double>().ToArray();
    }
}
