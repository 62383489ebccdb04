using System.CommandLine;
using Glassbox.Patching;
using static TorchSharp.torch;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox dla</c>: exact direct logit attribution of a task's prediction, or of one prompt's.</summary>
public static class DlaCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var t = new TaskOptions();
        var o = new OutputOptions();
        var prompt = new Option<string?>("--prompt") { Description = "one prompt, read at its last position (with --answer, optionally --wrong); default: the task's clean prompts" };
        var command = new Command("dla", "Direct logit attribution: each head, MLP, neuron and embedding's exact share of a logit or logit difference.") { prompt };
        m.AddTo(command);
        t.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (parse.GetValue(prompt) is { } text)
                {
                    using var scope = NewDisposeScope();
                    string answer = parse.GetValue(t.Answer) ?? throw new GlassboxException("--prompt needs --answer (the token whose logit to decompose).");
                    var wrong = parse.GetValue(t.Wrong);
                    using var single = PatchingTask.Pairs(tokenizer ?? throw new GlassboxException("dla --prompt needs a tokenizer."), [text], [text], answer, wrong);
                    o.Emit(parse, DirectLogitAttribution.Run(model, single.Clean, single.Metric.Targets, wrong is null ? "logit" : "logit difference"));
                    return 0;
                }
                using var task = t.Build(parse, tokenizer);
                o.Emit(parse, DirectLogitAttribution.Run(model, task.Clean, task.Metric.Targets, task.Metric.With(MetricKind.LogitDiff).Name));
            }
            return 0;
        });
        return command;
    }
}
