using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Probing;

/// <summary>
/// Concept scrubbing (Belrose et al. 2023, arXiv 2306.03819, §6): LEACE at every layer in turn, each eraser fitted on the
/// activations that the earlier layers' erasers already edited, so the concept is erased from the whole residual stream
/// rather than from one layer that later layers could restore. <c>Hooks</c> applies all of them (every position).
/// </summary>
public sealed class ConceptScrubber : IDisposable
{
    readonly List<Leace> erasers;

    ConceptScrubber(string hook, List<Leace> erasers) => (Hook, this.erasers) = (hook, erasers);

    /// <summary>The hook each eraser edits, <c>blocks.l.hook_{Hook}</c>.</summary>
    public string Hook { get; }
    public IReadOnlyList<Leace> Erasers => erasers;

    public static ConceptScrubber Fit(HookedTransformer model, IReadOnlyList<long[]> prompts, IReadOnlyList<int> labels,
        string hook = "resid_pre", int position = -1)
    {
        if (prompts.Count != labels.Count) throw new GlassboxException($"{prompts.Count} prompts but {labels.Count} labels.");
        var erasers = new List<Leace>();
        var applied = new List<IDisposable>();
        try
        {
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                using var scope = NewDisposeScope();
                // Reads layer l with the erasers of layers < l in place; layer l's own eraser is not hooked yet.
                var eraser = Leace.Fit(ProbeSweep.ActivationsAt(model, prompts, hook, position)[l], labels);
                erasers.Add(eraser);
                var (name, fn) = eraser.Hook(Name(hook, l));
                applied.Add(model.Hooks.Add(name, fn));
            }
        }
        catch
        {
            foreach (var e in erasers) e.Dispose();
            throw;
        }
        finally
        {
            foreach (var handle in applied) handle.Dispose();
        }
        return new ConceptScrubber(hook, erasers);
    }

    /// <summary>Every layer's eraser as a hook, for <see cref="HookedTransformer.RunWithHooks"/> or <c>model.Hooks.Add</c>.</summary>
    public (string Names, HookFn Fn)[] Hooks() => erasers.Select((e, l) => e.Hook(Name(Hook, l))).ToArray();

    static string Name(string hook, int layer) => $"blocks.{layer}.hook_{hook}";

    public void Dispose()
    {
        foreach (var e in erasers) e.Dispose();
    }
}
