using System.CommandLine;
using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Tokenization;
using Spectre.Console;

namespace Glassbox.Cli.Commands;

/// <summary>The token sequences a streaming command runs over: windows of a text file, or text sampled from the model.</summary>
public sealed class CorpusOptions
{
    public Option<string?> Corpus { get; } = new("--corpus") { Description = "text file cut into windows of --seq-len tokens (default: sample from the model)" };
    public Option<int> Sequences { get; } = new Option<int>("--sequences") { Description = "number of sequences", DefaultValueFactory = _ => 256 }.AtLeast(1);
    public Option<int?> SeqLen { get; } = new Option<int?>("--seq-len") { Description = "tokens per sequence, BOS included (default: 128, or the context if shorter)" };
    public Option<int> CorpusSeed { get; } = new("--corpus-seed") { Description = "seed of the sampled corpus", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        command.Options.Add(Corpus);
        command.Options.Add(Sequences);
        command.Options.Add(SeqLen);
        command.Options.Add(CorpusSeed);
    }

    /// <summary>--seq-len, or 128 tokens capped at the model's context.</summary>
    public int SequenceLength(ParseResult parse, HookedTransformer model) => parse.GetValue(SeqLen) ?? Math.Min(128, model.Config.ContextLength);

    /// <summary>The sequences, and a description of them for logs and saved configs.</summary>
    public (IReadOnlyList<long[]> Sequences, string Description) Load(ParseResult parse, HookedTransformer model, ITokenizer? tokenizer, int seedOffset = 0)
    {
        int count = parse.GetValue(Sequences), length = SequenceLength(parse, model);
        if (length > model.Config.ContextLength) throw new GlassboxException($"--seq-len {length} exceeds the model's context of {model.Config.ContextLength}.");
        if (parse.GetValue(Corpus) is string path)
        {
            if (!File.Exists(path)) throw new GlassboxException($"{path}: corpus file not found.");
            if (tokenizer is null) throw new GlassboxException("A text corpus needs a tokenizer: pass --tokenizer PATH.");
            var all = TokenCorpus.FromText(tokenizer, File.ReadAllText(path), length, int.MaxValue);
            return (all.Skip(seedOffset == 0 ? 0 : Math.Max(0, all.Count - count)).Take(count).ToList(), path);
        }
        long bos = tokenizer?.BosId ?? model.Config.BosTokenId ?? 0;
        int seed = parse.GetValue(CorpusSeed) + seedOffset;
        return (TokenCorpus.Sample(model, bos, count, length, seed), $"sampled from the model (seed {seed})");
    }

    /// <summary>Runs a max-activation scan with a progress bar on <paramref name="log"/>.</summary>
    public static void Scan(TextWriter log, Action<IProgress<ScanProgress>> scan)
    {
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(log) });
        err.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("scan");
            scan(new CallbackProgress<ScanProgress>(p =>
            {
                task.MaxValue = p.Total;
                task.Value = p.Sequences;
                task.Description = $"scan {p.Tokens:N0} tokens";
            }));
        });
    }
}
