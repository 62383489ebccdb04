using System.CommandLine;
using Glassbox.Loading;

namespace Glassbox.Cli.Commands;

public static class CacheCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var prompt = new Option<string>("--prompt") { Required = true };
        var names = new Option<string>("--names") { Description = "hook names or globs, comma-separated (e.g. 'blocks.*.attn.hook_pattern')", Required = true };
        var output = new Option<string>("--out") { Description = "output .safetensors file", Required = true };
        var command = new Command("cache", "Run a prompt and export the chosen activations to a safetensors file keyed by hook name.") { prompt, names, output };
        m.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                var tokens = ModelOptions.Encode(tokenizer, parse.GetValue(prompt)!);
                var (logits, cache) = model.RunWithCache(TorchSharp.torch.tensor(tokens).unsqueeze(0), parse.GetValue(names));
                using (logits)
                using (cache)
                {
                    var path = parse.GetValue(output)!;
                    var metadata = new Dictionary<string, string> { ["model"] = parse.GetValue(m.Model)!, ["tokens"] = string.Join(",", tokens) };
                    SafeTensorsWriter.Write(path, cache.Names.Select(n => new KeyValuePair<string, TorchSharp.torch.Tensor>(n, cache[n].cpu())), metadata);
                    parse.InvocationConfiguration.Output.WriteLine($"wrote {cache.Count} activations for {tokens.Length} tokens to {path}");
                }
            }
            return 0;
        });
        return command;
    }
}
