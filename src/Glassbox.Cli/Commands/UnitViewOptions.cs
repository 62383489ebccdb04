using System.CommandLine;
using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Tokenization;

namespace Glassbox.Cli.Commands;

/// <summary>
/// What <c>neurons</c> and <c>sae features</c> share: the units to show, the max-activation store (scanned over the corpus
/// first, resuming where it stopped), how many examples and tokens to show, and the output format.
/// </summary>
public sealed class UnitViewOptions(string unitName)
{
    public Option<string?> Units { get; } = new($"--{unitName}s") { Description = $"comma-separated {unitName} indices (default: the first 10)" };
    public Option<string?> Store { get; } = new("--store") { Description = "SQLite max-activation store; scanned over the corpus first (resuming where it stopped)" };
    public Option<int> Examples { get; } = new Option<int>("--examples") { Description = "top contexts kept and shown per unit", DefaultValueFactory = _ => 10 }.AtLeast(1);
    public Option<int> TopTokens { get; } = new Option<int>("--top-tokens") { DefaultValueFactory = _ => 10 }.AtLeast(1);
    public CorpusOptions Corpus { get; } = new();
    public OutputOptions Output { get; } = new();

    public void AddTo(Command command)
    {
        command.Options.Add(Units);
        command.Options.Add(Store);
        command.Options.Add(Examples);
        command.Options.Add(TopTokens);
        Corpus.AddTo(command);
        Output.AddTo(command);
    }

    /// <summary>
    /// Opens and scans the store when one is asked for (<paramref name="open"/> takes its path and k; <paramref name="scan"/>
    /// streams the corpus into it), then emits the views that <paramref name="build"/> makes of the chosen units.
    /// </summary>
    public void Run(ParseResult parse, HookedTransformer model, ITokenizer? tokenizer, int unitCount,
        Func<string, int, MaxActivationStore> open, Action<IReadOnlyList<long[]>, MaxActivationStore, IProgress<ScanProgress>> scan,
        Func<IReadOnlyList<int>, MaxActivationStore?, UnitViews> build)
    {
        MaxActivationStore? store = null;
        try
        {
            if (parse.GetValue(Store) is string path)
            {
                var opened = store = open(path, parse.GetValue(Examples));
                var (sequences, _) = Corpus.Load(parse, model, tokenizer);
                CorpusOptions.Scan(parse.InvocationConfiguration.Error, progress => scan(sequences, opened, progress));
            }
            var units = parse.GetValue(Units) is string text
                ? ModelOptions.ParseIds(text, Units.Name).Select(i => i >= 0 && i < unitCount ? (int)i
                    : throw new GlassboxException($"{Units.Name}: {i} is outside [0, {unitCount}).")).ToList()
                : Enumerable.Range(0, Math.Min(10, unitCount)).ToList();
            Output.Emit(parse, build(units, store));
        }
        finally
        {
            store?.Dispose();
        }
    }
}
