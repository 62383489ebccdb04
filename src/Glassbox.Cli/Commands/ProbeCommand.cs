using System.CommandLine;
using Glassbox.Probing;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox probe</c>: linear probes at every layer on a labelled text file (one <c>label&lt;TAB&gt;text</c> per line),
/// with a Hewitt &amp; Liang control task keyed on the probed token, reporting accuracy and selectivity.
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
        var testFraction = new Option<double>("--test-fraction") { Description = "held-out share of the examples", DefaultValueFactory = _ => 0.3 };
        var seed = new Option<int>("--seed") { Description = "split and control-label seed", DefaultValueFactory = _ => 0 };
        var scrub = new Option<bool>("--scrub") { Description = "first erase the labels from every layer (concept scrubbing: LEACE per layer) fitted on 70% of the data; probe the rest" };
        var command = new Command("probe", "Linear probes per layer with a control task: accuracy and selectivity.") { data, hook, position, testFraction, seed, scrub };
        m.AddTo(command);
        output.AddTo(command);
        command.SetAction(parse =>
        {
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
                    Hook = parse.GetValue(hook)!, Position = parse.GetValue(position), TestFraction = parse.GetValue(testFraction), Seed = parse.GetValue(seed),
                };
                var labels = rows.Select(r => classes.IndexOf(r.Label)).ToArray();
                parse.InvocationConfiguration.Error.WriteLine($"labels: {string.Join(", ", classes.Select((c, i) => $"{i} = {c}"))}");
                if (!parse.GetValue(scrub))
                {
                    output.Emit(parse, ProbeSweep.Run(model, prompts, labels, options));
                    return 0;
                }
                var (fit, rest) = ProbeSweep.Split(prompts.Length, 0.3, options.Seed);
                using var scrubber = ConceptScrubber.Fit(model, fit.Select(i => prompts[i]).ToArray(), fit.Select(i => labels[i]).ToArray(), options.Hook, options.Position);
                var erasers = scrubber.Hooks().Select(h => model.Hooks.Add(h.Names, h.Fn)).ToList();
                parse.InvocationConfiguration.Error.WriteLine($"scrubbed blocks.*.hook_{options.Hook} with erasers fitted on {fit.Length} examples; probing the other {rest.Length}");
                output.Emit(parse, ProbeSweep.Run(model, rest.Select(i => prompts[i]).ToArray(), rest.Select(i => labels[i]).ToArray(), options));
                foreach (var e in erasers) e.Dispose();
            }
            return 0;
        });
        return command;
    }
}
