using System.CommandLine;
using Glassbox.Reporting;
using Glassbox.Weights;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox weights</c>: copying and composition scores of every head, or one head's full OV/QK circuits with <c>--layer/--head</c>.</summary>
public static class WeightsCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var o = new OutputOptions();
        var layer = new Option<int?>("--layer") { Description = "with --head: show this head's circuits" };
        var head = new Option<int?>("--head") { Description = "with --layer: show this head's circuits" };
        var top = new Option<int>("--top") { Description = "token pairs to list per full circuit", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var effective = new Option<bool>("--effective-embedding") { Description = "heads after layer 0 read W_E + MLP_0(W_E) in the full circuits" };
        var command = new Command("weights", "Weight circuits: copying scores and Q/K/V composition between heads, or one head's full OV and QK circuits over the vocabulary.")
            { layer, head, top, effective };
        m.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            int? l = parse.GetValue(layer), h = parse.GetValue(head);
            if ((l is null) != (h is null)) throw new GlassboxException("Give --layer and --head together (or neither, for every head's scores).");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                IReport report = l is null ? WeightsOverview.Compute(model) : HeadCircuitReport.Compute(model, tokenizer, l.Value, h!.Value, parse.GetValue(top), parse.GetValue(effective));
                o.Emit(parse, report);
            }
            return 0;
        });
        return command;
    }
}
