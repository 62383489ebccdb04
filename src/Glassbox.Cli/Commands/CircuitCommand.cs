using System.CommandLine;
using Glassbox.Circuits;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox circuit</c>: discover a circuit with EAP, EAP-IG or ACDC and evaluate its faithfulness.</summary>
public static class CircuitCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var t = new TaskOptions();
        var o = new OutputOptions();
        var method = new Option<string>("--method") { Description = "eap, eap-ig or acdc", DefaultValueFactory = _ => "eap-ig" };
        var keep = new Option<double>("--keep") { Description = "EAP/EAP-IG: fraction of edges kept, by |score|", DefaultValueFactory = _ => 0.1 };
        var steps = new Option<int>("--steps") { Description = "EAP-IG integration steps", DefaultValueFactory = _ => 5 };
        var tau = new Option<double>("--tau") { Description = "ACDC threshold on the loss increase", DefaultValueFactory = _ => 0.02 };
        var ablation = new Option<string>("--ablation") { Description = "what edges outside the circuit carry: resample or mean", DefaultValueFactory = _ => "resample" };
        var dot = new Option<string?>("--dot") { Description = "also write the circuit as Graphviz DOT to this file" };
        var command = new Command("circuit", "Circuit discovery over the edge graph (q/k/v inputs separate) with a faithfulness score.") { method, keep, steps, tau, ablation, dot };
        m.AddTo(command);
        t.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var a = parse.GetValue(ablation)!.ToLowerInvariant() switch
            {
                "resample" => EdgeAblation.Resample,
                "mean" => EdgeAblation.Mean,
                var x => throw new GlassboxException($"Unknown ablation '{x}' (use resample or mean)."),
            };
            string how = parse.GetValue(method)!.ToLowerInvariant();
            if (how is not ("eap" or "eap-ig" or "acdc")) throw new GlassboxException($"Unknown method '{how}' (use eap, eap-ig or acdc).");
            double fraction = parse.GetValue(keep);
            if (fraction is <= 0 or > 1) throw new GlassboxException($"--keep is a fraction in (0, 1], got {fraction}.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                using var task = t.Build(parse, tokenizer);
                var circuit = how == "acdc"
                    ? Acdc.Discover(model, task, parse.GetValue(tau), a)
                    : EdgeAttributionPatching.Discover(model, task, how == "eap" ? 1 : parse.GetValue(steps), fraction, a);
                if (parse.GetValue(dot) is { } path)
                {
                    File.WriteAllText(path, circuit.ToDot());
                    parse.InvocationConfiguration.Error.WriteLine($"wrote {path}");
                }
                o.Emit(parse, circuit);
            }
            return 0;
        });
        return command;
    }
}
