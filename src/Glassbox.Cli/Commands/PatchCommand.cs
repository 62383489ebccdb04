using System.CommandLine;
using Glassbox.Patching;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox patch</c>: activation patching or attribution patching (AtP, AtP*) over layers × positions or heads.</summary>
public static class PatchCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var t = new TaskOptions();
        var o = new OutputOptions();
        var method = new Option<string>("--method") { Description = "exact, atp or atp* (QK fix)", DefaultValueFactory = _ => "exact" };
        var site = new Option<string>("--site") { Description = "resid, attn, mlp, heads, heads-pos, q, k, v, pattern or attn-in (a head's whole input)", DefaultValueFactory = _ => "resid" };
        var direction = new Option<string>("--direction") { Description = "denoising (patch clean into corrupted) or noising", DefaultValueFactory = _ => "denoising" };
        var value = new Option<string>("--value") { Description = "noising replacement: resample, mean or zero", DefaultValueFactory = _ => "resample" };
        var gradDrop = new Option<bool>("--grad-drop") { Description = "AtP*: score by GradDrop (one backward per layer)" };
        var command = new Command("patch", "Activation patching, or its first-order estimate (AtP/AtP*), normalised 0 = corrupted, 1 = clean.") { method, site, direction, value, gradDrop };
        m.AddTo(command);
        t.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var s = ActivationPatching.ParseSite(parse.GetValue(site)!);
            var d = parse.GetValue(direction)!.ToLowerInvariant() switch
            {
                "denoising" => PatchDirection.Denoising,
                "noising" => PatchDirection.Noising,
                var x => throw new GlassboxException($"Unknown direction '{x}' (use denoising or noising)."),
            };
            var v = parse.GetValue(value)!.ToLowerInvariant() switch
            {
                "resample" => PatchValue.Resample,
                "mean" => PatchValue.Mean,
                "zero" => PatchValue.Zero,
                var x => throw new GlassboxException($"Unknown patch value '{x}' (use resample, mean or zero)."),
            };
            string how = parse.GetValue(method)!.ToLowerInvariant();
            if (how is not ("exact" or "atp" or "atp*")) throw new GlassboxException($"Unknown method '{how}' (use exact, atp or atp*).");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                using var task = t.Build(parse, tokenizer);
                var report = how == "exact"
                    ? ActivationPatching.Run(model, task, s, d, v)
                    : AttributionPatching.Run(model, task, s, d, v, qkFix: how == "atp*", gradDrop: parse.GetValue(gradDrop));
                o.Emit(parse, report);
            }
            return 0;
        });
        return command;
    }
}
