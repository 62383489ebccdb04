using System.CommandLine;
using Glassbox.Features;
using Glassbox.Mechanisms;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox neurons</c>: MLP neurons' input and output weights projected to the vocabulary, and their top contexts;
/// or, with <c>--find</c>, the layer's entropy or token-frequency neurons (weight-based detectors).
/// </summary>
public static class NeuronsCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var views = new UnitViewOptions("neuron");
        var layer = new Option<int?>("--layer") { Description = "the MLP layer (required to show neurons; with --find, default: the last layer)" };
        var find = new Option<string?>("--find") { Description = "entropy or frequency: rank the layer's neurons by that detector's weight score" };
        var k = new Option<int>("--k") { Description = "entropy neurons: how many of W_U's weakest directions form its near-null space", DefaultValueFactory = _ => 10 };
        var command = new Command("neurons", "Show MLP neurons: tokens their input weights read, tokens their output weights promote and suppress, top-activating contexts.")
            { layer, find, k };
        m.AddTo(command);
        views.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (parse.GetValue(find) is { } detector)
                {
                    int[] layers = [parse.GetValue(layer) ?? model.Config.NLayers - 1];
                    views.Output.Emit(parse, detector.ToLowerInvariant() switch
                    {
                        "entropy" => EntropyNeurons.Find(model, layers, parse.GetValue(k), top: 20),
                        "frequency" => TokenFrequencyNeurons.Find(model, views.Corpus.Load(parse, model, tokenizer).Sequences, layers, top: 20),
                        _ => throw new GlassboxException($"Unknown detector '{detector}' (use entropy or frequency)."),
                    });
                    return 0;
                }
                int l = parse.GetValue(layer) ?? throw new GlassboxException("neurons needs --layer L (or --find entropy|frequency).");
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
