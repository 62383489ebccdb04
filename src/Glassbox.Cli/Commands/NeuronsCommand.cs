using System.CommandLine;
using Glassbox.Features;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox neurons</c>: MLP neurons' input and output weights projected to the vocabulary, and their top contexts.</summary>
public static class NeuronsCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var views = new UnitViewOptions("neuron");
        var layer = new Option<int>("--layer") { Required = true };
        var command = new Command("neurons", "Show MLP neurons: tokens their input weights read, tokens their output weights promote and suppress, top-activating contexts.") { layer };
        m.AddTo(command);
        views.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                int l = parse.GetValue(layer);
                if (l < 0 || l >= model.Config.NLayers || model.Blocks[l].Mlp is null)
                    throw new GlassboxException($"Layer {l} has no MLP neurons (the model has {model.Config.NLayers} layers{(model.Config.AttnOnly ? ", attention only" : "")}).");
                string hook = NeuronViews.HookName(l);
                int dMlp = (int)model.Blocks[l].Mlp!.W_out.shape[0];
                views.Run(parse, model, tokenizer, dMlp,
                    (path, k) => MaxActivationStore.Open(path, hook, dMlp, k),
                    (sequences, store, progress) => MaxActivationScan.Run(model, hook, null, sequences, store, progress: progress),
                    (units, store) => NeuronViews.Build(model, l, units, tokenizer, store, parse.GetValue(views.TopTokens), parse.GetValue(views.Examples)));
            }
            return 0;
        });
        return command;
    }
}
