using System.CommandLine;
using Glassbox.Probing;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox probe</c>: linear, MLP or mass-mean probes at every layer on a labelled text file (one <c>label&lt;TAB&gt;text</c> per line),
/// with a Hewitt &amp; Liang control task keyed on the probed token, reporting accuracy and selectivity, or with <c>--mdl</c>
/// the online codelength and compression (Voita &amp; Titov 2020) of the task and the control task.
/// </summary>
public static class ProbeCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var output = new OutputOptions();
        var data = new Option<string>("--data") { Description = "TSV file: label<TAB>text per line", Required = true };
        var hook = new Option<string>("--hook") { Description = "resid_pre, resid_mid, resid_post, attn_out or mlp_out", DefaultValueFactory = _ => "resid_post" };
        var position = new Option<int>("--position") { Description = "probed token (negative counts from the end)", DefaultValueFactory = _ => -1 };
        var testFraction = new Option<double>("--test-fraction") { Description = "held-out share of the examples", DefaultValueFactory = _ => 0.3 }.Fraction();
        var seed = new Option<int>("--seed") { Description = "split and control-label seed", DefaultValueFactory = _ => 0 };
        var probe = new Option<string>("--probe") { Description = "linear, mlp or mass-mean", DefaultValueFactory = _ => "linear" };
        var mdl = new Option<bool>("--mdl") { Description = "report the online codelength (bits) and compression instead of accuracy (linear or mlp probes)" };
        var optimizer = new Option<string>("--optimizer") { Description = "linear probes: adamw (100 steps) or lbfgs (to the optimum, at most 100 iterations)", DefaultValueFactory = _ => "adamw" };
        var cv = new Option<bool>("--cv") { Description = "linear probes: choose λ by 5-fold cross-validation over 1e-4 … 1e2 (with --optimizer lbfgs: the reference recipe)" };
        var randomBaseline = new Option<bool>("--random-baseline") { Description = "also probe a randomly initialised model of the same config" };
        var scrub = new Option<bool>("--scrub") { Description = "first erase the labels from every layer (concept scrubbing: LEACE per layer) fitted on 70% of the data; probe the rest" };
        var command = new Command("probe", "Probes per layer with a control task: accuracy and selectivity, or MDL codelength and compression.")
            { data, hook, position, testFraction, seed, probe, optimizer, cv, randomBaseline, mdl, scrub };
        m.AddTo(command);
        output.AddTo(command);
        command.SetAction(parse =>
        {
            var kind = Probes.Parse(parse.GetValue(probe)!);
            var training = new ProbeTraining { Optimizer = ParseOptimizer(parse.GetValue(optimizer)!), L2Grid = parse.GetValue(cv) ? ProbeTraining.ReferenceGrid : null };
            var path = parse.GetValue(data)!;
            if (!File.Exists(path)) throw new GlassboxException($"The data file {path} does not exist.");
            var rows = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).Select((line, i) =>
            {
                var tab = line.IndexOf('\t');
                if (tab <= 0) throw new GlassboxException($"{path} line {i + 1}: expected 'label<TAB>text'.");
                return (Label: line[..tab].Trim(), Text: line[(tab + 1)..]);
            }).ToArray();
            var classes = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            if (classes.Count < 2) throw new GlassboxException($"{path} has {classes.Count} label(s); a probe needs at least two.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                var prompts = rows.Select(r => ModelOptions.Encode(tokenizer, r.Text)).ToArray();
                var options = new ProbeSweepOptions
                {
                    Hook = parse.GetValue(hook)!, Position = parse.GetValue(position), TestFraction = parse.GetValue(testFraction), Seed = parse.GetValue(seed), Kind = kind, Training = training,
                    RandomModelBaseline = parse.GetValue(randomBaseline),
                };
                var labels = rows.Select(r => classes.IndexOf(r.Label)).ToArray();
                void Emit(long[][] examples, int[] ys)
                {
                    if (parse.GetValue(mdl)) output.Emit(parse, OnlineCode.Sweep(model, examples, ys, options));
                    else output.Emit(parse, ProbeSweep.Run(model, examples, ys, options));
                }
                parse.InvocationConfiguration.Error.WriteLine($"labels: {string.Join(", ", classes.Select((c, i) => $"{i} = {c}"))}");
                if (!parse.GetValue(scrub))
                {
                    Emit(prompts, labels);
                    return 0;
                }
                var (fit, rest) = ProbeSweep.Split(prompts.Length, 0.3, options.Seed);
                using var scrubber = ConceptScrubber.Fit(model, fit.Select(i => prompts[i]).ToArray(), fit.Select(i => labels[i]).ToArray(), options.Hook, options.Position);
                var erasers = scrubber.Hooks().Select(h => model.Hooks.Add(h.Names, h.Fn)).ToList();
                parse.InvocationConfiguration.Error.WriteLine($"scrubbed blocks.*.hook_{options.Hook} with erasers fitted on {fit.Length} examples; probing the other {rest.Length}");
                Emit(rest.Select(i => prompts[i]).ToArray(), rest.Select(i => labels[i]).ToArray());
                foreach (var e in erasers) e.Dispose();
            }
            return 0;
        });
        return command;
    }

    static ProbeOptimizer ParseOptimizer(string name) => name.ToLowerInvariant() switch
    {
        "adamw" => ProbeOptimizer.AdamW,
        "lbfgs" or "l-bfgs" => ProbeOptimizer.Lbfgs,
        _ => throw new GlassboxException($"Unknown probe optimizer '{name}' (use adamw or lbfgs)."),
    };
}
