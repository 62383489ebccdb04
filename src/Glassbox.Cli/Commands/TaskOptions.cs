using System.CommandLine;
using Glassbox.Datasets;
using Glassbox.Patching;
using Glassbox.Tokenization;

namespace Glassbox.Cli.Commands;

/// <summary>The clean/corrupted prompts and metric that dla, patch and circuit share: a zoo dataset or the user's own pairs.</summary>
public sealed class TaskOptions
{
    public Option<string> Task { get; } = new("--task") { Description = "ioi, greater-than, induction, or pairs (with --clean/--corrupted/--answer)", DefaultValueFactory = _ => "ioi" };
    public Option<int> Count { get; } = new("--count") { Description = "prompts to generate (the most common length is kept)", DefaultValueFactory = _ => 40 };
    public Option<int> Seed { get; } = new("--seed") { Description = "dataset seed", DefaultValueFactory = _ => 4242 };
    public Option<string?> Metric { get; } = new("--metric") { Description = "logit-diff, prob, logprob or kl (default: the task's own)" };
    public Option<string[]> Clean { get; } = new("--clean") { Description = "clean prompt (repeatable)" };
    public Option<string[]> Corrupted { get; } = new("--corrupted") { Description = "corrupted prompt, same token count (repeatable)" };
    public Option<string?> Answer { get; } = new("--answer") { Description = "the token the clean prompt should predict, e.g. \" Mary\"" };
    public Option<string?> Wrong { get; } = new("--wrong") { Description = "the token it should not, e.g. \" John\"" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Task, Count, Seed, Metric, Clean, Corrupted, Answer, Wrong }) command.Options.Add(o);
    }

    /// <param name="cleanOnly">The command reads only the clean prompts (knockout): user pairs may omit --corrupted.</param>
    public PatchingTask Build(ParseResult parse, ITokenizer? tokenizer, bool cleanOnly = false)
    {
        if (tokenizer is null) throw new GlassboxException("This command needs a tokenizer: pass --tokenizer PATH.");
        string name = TaskName(parse);
        int count = parse.GetValue(Count), seed = parse.GetValue(Seed);
        if (count < 1) throw new GlassboxException($"--count must be at least 1, got {count}.");
        var task = name switch
        {
            "ioi" => PatchingTask.Ioi(new IoiDataset(tokenizer).Generate(count, seed)),
            "greater-than" or "greaterthan" => GreaterThan(tokenizer, count, seed),
            "induction" => PatchingTask.Induction(new InductionDataset(tokenizer, halfLength: 20), count, seed),
            "pairs" => PatchingTask.Pairs(tokenizer, parse.GetValue(Clean) ?? [], CorruptedOrClean(parse, cleanOnly),
                parse.GetValue(Answer) ?? throw new GlassboxException("--task pairs needs --answer."), parse.GetValue(Wrong)),
            _ => throw new GlassboxException($"Unknown task '{name}' (use ioi, greater-than, induction or pairs)."),
        };
        if (parse.GetValue(Metric) is not { } metric) return task;
        using (task) return task.With(PatchMetric.ParseKind(metric));
    }

    /// <summary>--task, where user prompts (--clean, --corrupted) without one mean pairs rather than being ignored for the default IOI.</summary>
    string TaskName(ParseResult parse)
    {
        bool userPrompts = parse.GetValue(Clean) is { Length: > 0 } || parse.GetValue(Corrupted) is { Length: > 0 };
        if (parse.GetResult(Task) is null or { Implicit: true }) return userPrompts ? "pairs" : "ioi";
        string name = parse.GetValue(Task)!.ToLowerInvariant();
        if (userPrompts && name != "pairs")
            throw new GlassboxException($"--clean and --corrupted give your own prompt pairs; they do not combine with --task {name}.");
        return name;
    }

    string[] CorruptedOrClean(ParseResult parse, bool cleanOnly) =>
        parse.GetValue(Corrupted) is { Length: > 0 } corrupted || !cleanOnly ? parse.GetValue(Corrupted) ?? [] : parse.GetValue(Clean) ?? [];

    static PatchingTask GreaterThan(ITokenizer tokenizer, int count, int seed)
    {
        var data = new GreaterThanDataset(tokenizer);
        return PatchingTask.GreaterThan(data, data.Generate(count, seed));
    }
}
