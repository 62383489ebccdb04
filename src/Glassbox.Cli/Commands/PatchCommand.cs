using System.CommandLine;
using Glassbox.Patching;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox patch</c>: activation patching or attribution patching (AtP, AtP*) over layers × positions or heads; or causal
/// tracing, which adds noise to the clean prompts' embeddings where they differ from the corrupted ones and restores one state.
/// </summary>
public static class PatchCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var t = new TaskOptions();
        var o = new OutputOptions();
        var method = new Option<string>("--method") { Description = "exact, atp, atp* (QK fix) or trace (causal tracing)", DefaultValueFactory = _ => "exact" };
        var site = new Option<string>("--site") { Description = "resid, attn, mlp, heads, heads-pos, q, k, v, pattern or attn-in (a head's whole input)", DefaultValueFactory = _ => "resid" };
        var direction = new Option<string>("--direction") { Description = "denoising (patch clean into corrupted) or noising", DefaultValueFactory = _ => "denoising" };
        var value = new Option<string>("--value") { Description = "noising replacement: resample, mean or zero", DefaultValueFactory = _ => "resample" };
        var gradDrop = new Option<bool>("--grad-drop") { Description = "AtP*: score by GradDrop (one backward per layer)" };
        var state = new Option<string?>("--state") { Description = "trace: the state restored, resid_pre (default), attn_out or mlp_out" };
        var window = new Option<int?>("--window") { Description = "trace: layers restored around each layer (default 1 for resid_pre, 10 for attn_out and mlp_out)" };
        var samples = new Option<int?>("--samples") { Description = "trace: noise samples averaged (default 10)" };
        var noise = new Option<double?>("--noise") { Description = "trace: noise standard deviation in units of the embeddings' (default 3)" }.AtLeast(0.0);
        var command = new Command("patch", "Activation patching, or its first-order estimate (AtP/AtP*), normalised 0 = corrupted, 1 = clean; or causal tracing.")
            { method, site, direction, value, gradDrop, state, window, samples, noise };
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
            if (how is not ("exact" or "atp" or "atp*" or "trace")) throw new GlassboxException($"Unknown method '{how}' (use exact, atp, atp* or trace).");
            bool tracing = how == "trace";
            var traced = parse.GetValue(state) is { } name ? CausalTracing.ParseState(name) : TracedState.ResidPre;
            bool traceOptions = parse.GetValue(state) is not null || parse.GetValue(window) is not null || parse.GetValue(samples) is not null || parse.GetValue(noise) is not null;
            if (!tracing && traceOptions)
                throw new GlassboxException("--state, --window, --samples and --noise apply to --method trace only.");
            if (parse.GetValue(window) is < 1 and var w) throw new GlassboxException($"--window must be at least 1 (a single layer), got {w}.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                using var task = t.Build(parse, tokenizer);
                var report = tracing ? Trace(model, task, traced, parse.GetValue(window), parse.GetValue(samples) ?? 10, parse.GetValue(noise) ?? 3.0)
                    : how == "exact" ? ActivationPatching.Run(model, task, s, d, v)
                    : AttributionPatching.Run(model, task, s, d, v, qkFix: how == "atp*", gradDrop: parse.GetValue(gradDrop));
                o.Emit(parse, report);
            }
            return 0;
        });
        return command;
    }

    static PatchingReport Trace(Models.HookedTransformer model, PatchingTask task, TracedState state, int? window, int samples, double noise)
    {
        var subject = CausalTracing.DifferingPositions(task);
        if (subject.Count == 0) throw new GlassboxException("Causal tracing corrupts the positions where the clean and corrupted prompts differ, and these are identical.");
        return CausalTracing.Run(model, task.Clean, task.Metric, subject, samples, noise, state: state, window: window);
    }
}
