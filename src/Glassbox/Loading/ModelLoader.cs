using Glassbox.Loading.Adapters;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Loading;

/// <summary>
/// Loads a model from a path: a Hugging Face directory (config.json + safetensors, single or
/// sharded), or a llama2.c <c>.bin</c> checkpoint; or from a hub id (<c>org/name</c>) already in the local Hugging Face
/// hub cache (<see cref="HubCache"/>; a path that exists wins). Weights are read as float32 (bf16 and f16 are widened
/// exactly), then placed on <paramref name="device"/> in <paramref name="dtype"/>. Pickle checkpoints are refused.
/// </summary>
public static class ModelLoader
{
    public static HookedTransformer Load(string path, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var (config, weights) = LoadWeights(path);
        using (weights) return new HookedTransformer(config, weights, device, dtype);
    }

    /// <summary>The config and TransformerLens-shaped weights, before placement (float32, CPU).</summary>
    public static (ModelConfig Config, StateDict Weights) LoadWeights(string path)
    {
        path = ResolvePath(path);
        if (Directory.Exists(path)) return LoadHfDirectory(path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(path) == "config.json")
            return LoadHfDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(path) == "pytorch_model.bin")
            throw new ModelFormatException($"{path}: PyTorch pickle checkpoints are never loaded (they can run code); convert to safetensors.");
        return Llama2cCheckpoint.Load(path);
    }

    /// <summary>
    /// <paramref name="path"/> when it exists on disk; else, for a hub id, its snapshot in the local hub cache; else an
    /// error listing every place looked in.
    /// </summary>
    public static string ResolvePath(string path)
    {
        if (Directory.Exists(path) || File.Exists(path)) return path;
        if (!HubCache.IsHubId(path)) throw new ModelFormatException($"{path}: no such file or directory.");
        var (root, source) = HubCache.DefaultRoot();
        var looked = new List<string> { $"{Path.GetFullPath(path)} (no such file or directory)" };
        return HubCache.TryResolve(path, root, looked) ?? throw HubCache.NotFound(path, looked, $"{root}, from {source}");
    }

    static (ModelConfig, StateDict) LoadHfDirectory(string dir)
    {
        var hf = HfConfig.Load(Path.Combine(dir, "config.json"));
        var adapter = Architectures.For(hf.ModelType);
        var config = adapter.ReadConfig(hf);
        using var checkpoint = SafeTensorsCheckpoint.OpenDirectory(dir);
        try
        {
            var tracked = new TrackedTensorSource(checkpoint);
            var weights = adapter.Convert(config, tracked);
            var unused = checkpoint.Tensors.Select(t => t.Name).Where(n => !tracked.WasRead(n) && !TensorSources.IsBuffer(n)).ToArray();
            if (unused.Length == 0) return (config, weights);
            weights.Dispose();
            throw new ModelFormatException($"{dir}: {unused.Length} checkpoint tensor(s) are not part of the '{hf.ModelType}' layout Glassbox reads " +
                $"({string.Join(", ", unused.Take(5).Select(n => $"'{n}'"))}{(unused.Length > 5 ? ", …" : "")}); refusing rather than loading a model without them. " +
                "Does config.json name the right model_type and options?");
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            // A reshape the config implies failed: the tensors have other shapes than config.json says.
            throw new ModelFormatException($"{dir}: the weights do not fit config.json (tensor shape mismatch: {e.Message.Split('\n')[0]}).", e);
        }
    }

    /// <summary>
    /// The tokenizer for a model: <paramref name="tokenizerPath"/> when given; else a tokenizer file in the
    /// model's directory (tokenizer.json, tokenizer.model, tokenizer.bin); else GPT-2's built-in vocabulary
    /// for GPT-2 checkpoints; else null (the model then takes token ids only).
    /// </summary>
    public static ITokenizer? FindTokenizer(string modelPath, ModelConfig config, string? tokenizerPath = null)
    {
        if (tokenizerPath is not null) return TokenizerLoader.Load(tokenizerPath, config.VocabSize);
        modelPath = ResolvePath(modelPath);
        var dir = Directory.Exists(modelPath) ? modelPath : Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        if (new[] { "tokenizer.json", "tokenizer.model", "tokenizer.bin" }.Any(n => File.Exists(Path.Combine(dir, n))))
            return TokenizerLoader.Load(dir, config.VocabSize);
        if (config.Architecture == "gpt2" && config.VocabSize == 50257) return new Gpt2Tokenizer();
        return null;
    }
}
