using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>Sets latent <paramref name="Latent"/> to <paramref name="Value"/> at every position (0 ablates it).</summary>
public sealed record LatentEdit(int Latent, double Value);

/// <summary>
/// One SAE spliced into the forward pass. With <paramref name="AddError"/> the reconstruction error e = x − x̂ is added
/// back, so the model's output changes only through <paramref name="Edits"/>. <paramref name="SkipFirstPosition"/>
/// leaves position 0 of each forward call (BOS) untouched, for SAEs trained without it (not for KV-cached generation).
/// </summary>
public sealed record SaeSplice(SparseAutoencoder Sae, bool AddError = false, IReadOnlyList<LatentEdit>? Edits = null, bool SkipFirstPosition = false);

/// <summary>
/// Runs a model with SAEs (or transcoders) inserted at their hooks, as SAELens's HookedSAETransformer does: the hook
/// value x becomes x̂ = decode(encode(x)) (with edits applied to the latents), or x̂_edited + (x − x̂) with the error
/// term. Latents and reconstructions are cached under <c>{hook}.hook_sae_input</c>, <c>hook_sae_acts_pre</c>,
/// <c>hook_sae_acts_post</c>, <c>hook_sae_recons</c>, <c>hook_sae_error</c> and <c>hook_sae_output</c>. Splices are
/// hooks, so they stay active during <see cref="Generation"/> too.
/// </summary>
public static class SaeSplicing
{
    public static readonly string[] CachedPoints = ["hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_recons", "hook_sae_error", "hook_sae_output"];

    /// <summary>Registers the splices until the result is disposed; with a cache, records the SAE hook points into it.</summary>
    public static IDisposable Attach(HookedTransformer model, IReadOnlyList<SaeSplice> splices, ActivationCache? cache = null)
    {
        var registrations = new List<IDisposable>();
        try
        {
            foreach (var splice in splices) registrations.AddRange(Attach(model, splice, cache));
        }
        catch
        {
            foreach (var r in registrations) r.Dispose();
            throw;
        }
        return new Registrations(registrations);
    }

    static IEnumerable<IDisposable> Attach(HookedTransformer model, SaeSplice splice, ActivationCache? cache)
    {
        var sae = splice.Sae;
        var c = sae.Config;
        var input = model.Hooks[c.HookName];
        var output = model.Hooks[c.OutputHookName];
        if (IndexOf(model, output) < IndexOf(model, input))
            throw new GlassboxException($"The transcoder reads {c.HookName}, which runs after its target {c.OutputHookName}.");
        Tensor? captured = null;
        HookFn replace = (activation, point) =>
        {
            // hook_z-like points [batch, pos, head, d_head] are read flattened to [batch, pos, head·d_head].
            var y = activation.dim() == 4 ? activation.flatten(2) : activation;
            var x = captured ?? y;
            captured = null;
            if (x.shape[^1] != c.DIn || y.shape[^1] != (c.IsTranscoder ? sae.W_dec.shape[1] : c.DIn))
                throw new GlassboxException($"The SAE at {c.HookName} has d_in {c.DIn}, but the activation has width {x.shape[^1]}.");
            var pre = sae.PreActivations(x);
            var f = sae.Activate(x, pre);
            var edited = Edit(f, splice.Edits);
            var reconstruction = sae.Decode(f);
            var result = splice.AddError ? y + (sae.Decode(edited) - reconstruction) : sae.Decode(edited);
            if (splice.SkipFirstPosition && result.dim() == 3) result = cat([y[.., ..1], result[.., 1..]], 1);
            if (cache is not null)
            {
                string p = c.OutputHookName + ".";
                foreach (var (name, t) in CachedPoints.Zip(new[] { x, pre, edited, sae.Decode(edited), y - reconstruction, result }))
                    cache.Add(p + name, t.detach().clone().DetachFromDisposeScope());
            }
            return result.view(activation.shape);
        };
        if (c.IsTranscoder)
            yield return model.Hooks.Add([input], (x, _) => { captured = x.dim() == 4 ? x.flatten(2) : x; return null; });
        yield return model.Hooks.Add([output], replace);
    }

    static int IndexOf(HookedTransformer model, HookPoint point)
    {
        var points = model.Hooks.Points;
        for (int i = 0; i < points.Count; i++) if (ReferenceEquals(points[i], point)) return i;
        return -1;
    }

    static Tensor Edit(Tensor f, IReadOnlyList<LatentEdit>? edits)
    {
        if (edits is null || edits.Count == 0) return f;
        var edited = f.clone();
        foreach (var e in edits)
        {
            if (e.Latent < 0 || e.Latent >= f.shape[^1]) throw new GlassboxException($"Latent {e.Latent} is outside [0, {f.shape[^1]}).");
            edited[TensorIndex.Ellipsis, e.Latent] = e.Value;
        }
        return edited;
    }

    /// <summary>Logits with the SAEs spliced in.</summary>
    public static Tensor Run(HookedTransformer model, Tensor tokens, params SaeSplice[] splices)
    {
        using (Attach(model, splices)) return model.Forward(tokens);
    }

    /// <summary>Logits with the SAEs spliced in, and their latents and reconstructions cached by hook name.</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(HookedTransformer model, Tensor tokens, params SaeSplice[] splices)
    {
        var cache = new ActivationCache(model.Hooks, keepsGrad: false);
        try
        {
            using (Attach(model, splices, cache)) return (model.Forward(tokens), cache);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>Generates with the SAEs spliced in at every step (e.g. with a latent clamped to steer).</summary>
    public static long[] Generate(HookedTransformer model, IReadOnlyList<long> prompt, GenerationOptions options, params SaeSplice[] splices)
    {
        using (Attach(model, splices)) return Generation.Generate(model, prompt, options);
    }

    sealed class Registrations(List<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in items) r.Dispose();
            items.Clear();
        }
    }
}
