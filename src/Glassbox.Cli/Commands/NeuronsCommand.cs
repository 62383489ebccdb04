using System.CommandLine;
using Glassbox.Features;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox neurons</c>: MLP neurons' input and output weights projected to the vocabulary, and their top contexts.</summary>
public static class NeuronsCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var corpus = new CorpusOptions();
        var o = new OutputOptions();
        var layer = new Option<int>("--layer") { Required = true };
        var neurons = new Option<string?>("--neurons") { Description = "comma-separated neuron indices (default: the first 10)" };
        var store = new Option<string?>("--store") { Description = "SQLite max-activation store of the layer's neurons; scanned over the corpus first (resuming where it stopped)" };
        var k = new Option<int>("--examples") { Description = "top contexts kept and shown per neuron", DefaultValueFactory = _ => 10 };
        var topTokens = new Option<int>("--top-tokens") { DefaultValueFactory = _ => 10 };
        var command = new Command("neurons", "Show MLP neurons: tokens their input weights read, tokens their output weights promote and suppress, top-activating contexts.")
        { layer, neurons, store, k, topTokens };
        m.AddTo(command);
        corpus.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var log = parse.InvocationConfiguration.Error;
            var (model, tokenizer) = m.Load(parse, log);
            using (model)
            {
                int l = parse.GetValue(layer);
                if (l < 0 || l >= model.Config.NLayers || model.Blocks[l].Mlp is null)
                    throw new GlassboxException($"Layer {l} has no MLP neurons (the model has {model.Config.NLayers} layers{(model.Config.AttnOnly ? ", attention only" : "")}).");
                int dMlp = (int)model.Blocks[l].Mlp!.W_out.shape[0];
                MaxActivationStore? examples = null;
                try
                {
                    if (parse.GetValue(store) is string path)
                    {
                        examples = MaxActivationStore.Open(path, NeuronViews.HookName(l), dMlp, parse.GetValue(k));
                        var (sequences, _) = corpus.Load(parse, model, tokenizer);
                        var opened = examples;
                        CorpusOptions.Scan(log, progress => MaxActivationScan.Run(model, NeuronViews.HookName(l), null, sequences, opened, progress: progress));
                    }
                    var units = CorpusOptions.ParseUnits(parse.GetValue(neurons), dMlp);
                    o.Emit(parse, NeuronViews.Build(model, l, units, tokenizer, examples, parse.GetValue(topTokens), parse.GetValue(k)));
                }
                finally
                {
                    examples?.Dispose();
                }
            }
            return 0;
        });
        return command;
    }
}
