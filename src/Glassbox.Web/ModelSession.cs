using Glassbox.Loading;
using Glassbox.Models;
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
    HookedTransformer model;
    ITokenizer tokenizer;

    public ModelSession(ServerOptions options, string path, string? tokenizerPath)
    {
        this.options = options;
        (model, tokenizer) = Load(path, tokenizerPath);
        Path = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
    }

    public string Path { get; private set; }

    public ModelConfig Config => model.Config;

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
            model.Dispose();
            (model, tokenizer, Path) = (newModel, newTokenizer, path);
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
        gate.Dispose();
    }
}
