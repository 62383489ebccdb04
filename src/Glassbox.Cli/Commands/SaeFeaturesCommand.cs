using System.CommandLine;
using Glassbox.Sae;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox sae features</c>: logit effects, densities and top-activating contexts of SAE latents.</summary>
public static class SaeFeaturesCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var views = new UnitViewOptions("latent");
        var saeDir = new Option<string>("--sae") { Description = "SAE directory (cfg.json + sae_weights.safetensors)", Required = true };
        var command = new Command("features", "Show SAE latents: logit effect (W_dec · W_U top and bottom tokens), density, top-activating contexts.") { saeDir };
        m.AddTo(command);
        views.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            using (var sae = SaeFiles.Load(parse.GetValue(saeDir)!, model.Device, model.DType))
                views.Run(parse, model, tokenizer, sae.Config.DSae,
                    (path, k) => SaeFeatureViews.OpenStore(path, sae, k),
                    (sequences, store, progress) => SaeFeatureViews.ScanLatents(model, sae, sequences, store, progress),
                    (units, store) => SaeFeatureViews.Build(model, sae, units, tokenizer, store, parse.GetValue(views.TopTokens), parse.GetValue(views.Examples)));
            return 0;
        });
        return command;
    }
}
