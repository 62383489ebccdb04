using Glassbox.Lens;
using Glassbox.Loading;
using Glassbox.Mechanisms;
using Glassbox.Models;
using Glassbox.Sae;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Web;

/// <summary>
/// The one loaded model and its tokenizer. Hooks are registered on the model itself, so requests run one at a
/// time behind a gate; each runs in its own dispose scope, so nothing a request creates outlives it.
/// </summary>
public sealed class ModelSession : IDisposable
{
    readonly SemaphoreSlim gate = new(1, 1);
    readonly ServerOptions options;
    readonly string startPath;
    readonly SparseAutoencoder? sae;
    HookedTransformer model;
    ITokenizer tokenizer;
    MechanismsReport? mechanisms;

    public ModelSession(ServerOptions options, string path, string? tokenizerPath)
    {
        this.options = options;
        (model, tokenizer) = Load(path, tokenizerPath);
        Path = startPath = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        if (options.TunedLensPath is { } lens) TunedLens = LoadTunedLens(lens, model);
        if (options.SaePath is { } saePath) sae = LoadSae(saePath, model);
    }

    public string Path { get; private set; }

    /// <summary>The neuron pages' max-activation stores for the current model; use only inside <see cref="Run{T}"/>.</summary>
    public NeuronCorpus Neurons { get; private set; } = new();

    public ModelConfig Config => model.Config;

    /// <summary>
    /// The mechanism detectors' report on the current model: it takes seconds (a probe batch and ablation sweeps), so it is
    /// computed on first use and kept until the model changes; use only inside <see cref="Run{T}"/>.
    /// </summary>
    public MechanismsReport Mechanisms =>
        mechanisms ??= MechanismDetector.Run(model, tokenizer, options.Mechanisms, System.IO.Path.GetFileName(Path));

    /// <summary>The tuned lens given at start; it belongs to the start model, so it is offered only while that model is loaded.</summary>
    public TunedLens? TunedLens { get; private set; }

    /// <summary>The SAE given at start; like the tuned lens, it belongs to the start model and is offered only while that model is loaded.</summary>
    public SparseAutoencoder? Sae => Path == startPath ? sae : null;

    /// <summary>Most tokens a prompt may have: the server's limit, and never more than the model's context.</summary>
    public int MaxTokens => Math.Min(options.MaxTokens, model.Config.ContextLength);

    /// <summary>Runs <paramref name="work"/> with the model to itself, inside a dispose scope.</summary>
    public async Task<T> Run<T>(Func<HookedTransformer, ITokenizer, T> work, CancellationToken cancel)
    {
        await gate.WaitAsync(cancel);
        try
        {
            using var scope = NewDisposeScope();
            return work(model, tokenizer);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Replaces the model once no request is using it; the old one is disposed.</summary>
    public async Task Switch(string path, CancellationToken cancel)
    {
        await gate.WaitAsync(cancel);
        try
        {
            var (newModel, newTokenizer) = Load(path, null);
            var lens = path == startPath && options.TunedLensPath is { } file ? LoadTunedLens(file, newModel) : null;
            model.Dispose();
            TunedLens?.Dispose();
            Neurons.Dispose();
            (model, tokenizer, Path, TunedLens, Neurons, mechanisms) = (newModel, newTokenizer, path, lens, new NeuronCorpus(), null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Token ids of a prompt, refused when empty or longer than <see cref="MaxTokens"/>.</summary>
    public static long[] Encode(ITokenizer tokenizer, string? prompt, int maxTokens)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new ApiException(400, "prompt is empty.");
        var ids = tokenizer.Encode(prompt).Select(i => (long)i).ToArray();
        if (ids.Length == 0) throw new ApiException(400, "prompt has no tokens.");
        if (ids.Length > maxTokens)
            throw new ApiException(400, $"prompt is {ids.Length} tokens; this server accepts at most {maxTokens}.");
        return ids;
    }

    static TunedLens LoadTunedLens(string path, HookedTransformer model)
    {
        var lens = Directory.Exists(path) ? TunedLens.LoadTunedLensLayout(path, model.Device) : TunedLens.Load(path, model.Device);
        if (lens.NLayers != model.Config.NLayers || lens.DModel != model.Config.DModel)
        {
            lens.Dispose();
            throw new GlassboxException($"The tuned lens at '{path}' has {lens.NLayers} layers of width {lens.DModel}; the model has {model.Config.NLayers} of width {model.Config.DModel}.");
        }
        return lens;
    }

    static SparseAutoencoder LoadSae(string directory, HookedTransformer model)
    {
        var loaded = SaeFiles.Load(directory, model.Device);
        string? problem = !model.Hooks.Contains(loaded.Config.HookName) ? $"reads '{loaded.Config.HookName}', which this model does not have"
            : loaded.Config.DIn != model.Config.DModel ? $"is {loaded.Config.DIn} wide, not the residual stream's {model.Config.DModel}, so its features have no logit effect"
            : null;
        if (problem is null) return loaded;
        loaded.Dispose();
        throw new GlassboxException($"The SAE at '{directory}' {problem}.");
    }

    (HookedTransformer, ITokenizer) Load(string path, string? tokenizerPath)
    {
        var loaded = ModelLoader.Load(path, options.Device, options.DType);
        var tok = ModelLoader.FindTokenizer(path, loaded.Config, tokenizerPath);
        if (tok is null)
        {
            loaded.Dispose();
            throw new GlassboxException($"'{path}' has no tokenizer beside it; the viewer needs one to read prompts (pass --tokenizer).");
        }
        return (loaded, tok);
    }

    public void Dispose()
    {
        model.Dispose();
        TunedLens?.Dispose();
        sae?.Dispose();
        Neurons.Dispose();
        gate.Dispose();
    }
}
