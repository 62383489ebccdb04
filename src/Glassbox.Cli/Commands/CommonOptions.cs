using System.CommandLine;
using System.Diagnostics;
using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Cli.Commands;

/// <summary>Options every model command shares, and the loading they drive.</summary>
public sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model") { Description = "Hugging Face model directory, llama2.c .bin checkpoint, or hub id (org/name) already in the local Hugging Face cache", Required = true };
    public Option<string?> Tokenizer { get; } = new("--tokenizer") { Description = "tokenizer file (tokenizer.json, SentencePiece .model, llama2.c .bin); default: found beside the model" };
    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
    public Option<string> DType { get; } = new("--dtype") { Description = "float32, bfloat16 or float16", DefaultValueFactory = _ => "float32" };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Tokenizer);
        command.Options.Add(Device);
        command.Options.Add(DType);
    }

    public (HookedTransformer Model, ITokenizer? Tokenizer) Load(ParseResult parse, TextWriter log, bool withTokenizer = true)
    {
        var sw = Stopwatch.StartNew();
        string path = parse.GetValue(Model)!;
        var model = ModelLoader.Load(path, ParseDevice(parse.GetValue(Device)!), ParseDType(parse.GetValue(DType)!));
        var tokenizer = withTokenizer ? ModelLoader.FindTokenizer(path, model.Config, parse.GetValue(Tokenizer)) : null;
        log.WriteLine($"loaded {model.Config.Architecture} ({model.ParameterCount:N0} parameters) in {sw.ElapsedMilliseconds} ms");
        return (model, tokenizer);
    }

    public static Device ParseDevice(string text)
    {
        try { return new Device(text); }
        catch (Exception e) { throw new GlassboxException($"Unknown device '{text}' (use cpu, cuda or cuda:N): {e.Message}"); }
    }

    public static ScalarType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "float32" or "f32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "f16" or "fp16" or "half" => ScalarType.Float16,
        _ => throw new GlassboxException($"Unknown dtype '{text}' (use float32, bfloat16 or float16)."),
    };

    /// <summary>Token ids for a prompt, applying the tokenizer's BOS rule.</summary>
    public static long[] Encode(ITokenizer? tokenizer, string text)
    {
        if (tokenizer is null) throw new GlassboxException("This model has no tokenizer: pass --tokenizer PATH, or give token ids with --ids.");
        return tokenizer.Encode(text).Select(i => (long)i).ToArray();
    }

    public static ITokenizer RequireTokenizer(ITokenizer? tokenizer, string what) =>
        tokenizer ?? throw new GlassboxException($"{what} needs a tokenizer: pass --tokenizer PATH.");

    /// <summary>The one known token a word given for option <paramref name="what"/> is, or an error naming the word.</summary>
    public static int SingleToken(ITokenizer? tokenizer, string word, string what) => RequireTokenizer(tokenizer, what).SingleToken(word, what);

    /// <summary>Comma-separated integers given for <paramref name="option"/>.</summary>
    public static long[] ParseIds(string text, string option = "--ids")
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => long.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new GlassboxException($"{option} takes comma-separated integers, got '{text}'.");
        }
    }
}
