using System.CommandLine;
using Glassbox.Features;
using Glassbox.Sae;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox sae features</c>: logit effects, densities and top-activating contexts of SAE latents.</summary>
public static class SaeFeaturesCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var corpus = new CorpusOptions();
        var o = new OutputOptions();
        var saeDir = new Option<string>("--sae") { Description = "SAE directory (cfg.json + sae_weights.safetensors)", Required = true };
        var latents = new Option<string?>("--latents") { Description = "comma-separated latent indices (default: the first 10)" };
        var store = new Option<string?>("--store") { Description = "SQLite max-activation store; scanned over the corpus first (resuming where it stopped)" };
        var k = new Option<int>("--examples") { Description = "top contexts kept and shown per latent", DefaultValueFactory = _ => 10 };
        var topTokens = new Option<int>("--top-tokens") { DefaultValueFactory = _ => 10 };
        var command = new Command("features", "Show SAE latents: logit effect (W_dec · W_U top and bottom tokens), density, top-activating contexts.") { saeDir, latents, store, k, topTokens };
        m.AddTo(command);
        corpus.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var log = parse.InvocationConfiguration.Error;
            var (model, tokenizer) = m.Load(parse, log);
            using (model)
            using (var sae = SaeFiles.Load(parse.GetValue(saeDir)!, model.Device, model.DType))
            {
                MaxActivationStore? examples = null;
                try
                {
                    if (parse.GetValue(store) is string path)
                    {
                        examples = SaeFeatureViews.OpenStore(path, sae, parse.GetValue(k));
                        var (sequences, _) = corpus.Load(parse, model, tokenizer);
                        var opened = examples;
                        CorpusOptions.Scan(log, progress => SaeFeatureViews.ScanLatents(model, sae, sequences, opened, progress));
                    }
                    var units = CorpusOptions.ParseUnits(parse.GetValue(latents), sae.Config.DSae);
                    o.Emit(parse, SaeFeatureViews.Build(model, sae, units, tokenizer, examples, parse.GetValue(topTokens), parse.GetValue(k)));
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
