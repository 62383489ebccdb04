using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Glassbox.Models;

namespace Glassbox.Cli.Commands;

public static class GenerateCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var prompt = new Option<string?>("--prompt") { Description = "text to continue (default: start from BOS)" };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "tokens to generate", Required = true };
        var temperature = new Option<double>("--temperature") { Description = "0 is greedy", DefaultValueFactory = _ => 0.0 };
        var topP = new Option<double?>("--top-p") { Description = "nucleus sampling mass" };
        var topK = new Option<int?>("--top-k") { Description = "sample among the k most likely tokens" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "print {\"tokens\": [...], \"text\": \"...\"}" };
        var command = new Command("generate", "Generate a continuation (greedy or sampled) with a KV cache.") { prompt, maxNew, temperature, topP, topK, seed, json };
        m.AddTo(command);
        command.SetAction(parse =>
        {
            var log = parse.InvocationConfiguration.Error;
            var (model, tokenizer) = m.Load(parse, log);
            using (model)
            {
                if (parse.GetValue(maxNew) < 0) throw new GlassboxException("--max-new-tokens must be ≥ 0.");
                var text = parse.GetValue(prompt);
                long[] ids = string.IsNullOrEmpty(text)
                    ? tokenizer?.BosId is int bos ? new long[] { bos } : model.Config.BosTokenId is int cfgBos ? new long[] { cfgBos }
                        : throw new GlassboxException("This model has no BOS token to start from: give --prompt.")
                    : ModelOptions.Encode(tokenizer, text);
                var sw = Stopwatch.StartNew();
                var tokens = Generation.Generate(model, ids, new GenerationOptions
                {
                    MaxNewTokens = parse.GetValue(maxNew),
                    Temperature = parse.GetValue(temperature),
                    TopP = parse.GetValue(topP),
                    TopK = parse.GetValue(topK),
                    Seed = parse.GetValue(seed),
                    StopToken = tokenizer?.EosId ?? model.Config.EosTokenId,
                });
                int generated = tokens.Length - ids.Length;
                log.WriteLine($"generated {generated} tokens in {sw.ElapsedMilliseconds} ms ({generated / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} tokens/s)");
                var decoded = tokenizer?.Decode(tokens.Select(t => (int)t)) ?? string.Join(" ", tokens);
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(new { tokens, text = decoded }));
                else output.WriteLine(decoded);
            }
            return 0;
        });
        return command;
    }
}
