using Glassbox.Loading.Adapters;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading;

/// <summary>
/// Loads a model from a path: a Hugging Face directory (config.json + safetensors, single or
/// sharded), or a llama2.c <c>.bin</c> checkpoint. Weights are read as float32, then placed on
/// <paramref name="device"/> in <paramref name="dtype"/>. Pickle checkpoints are refused.
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
        if (Directory.Exists(path)) return LoadHfDirectory(path);
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: no such file or directory.");
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(path) == "config.json")
            return LoadHfDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(path) == "pytorch_model.bin")
            throw new ModelFormatException($"{path}: PyTorch pickle checkpoints are never loaded (they can run code); convert to safetensors.");
        return Llama2cCheckpoint.Load(path);
    }

    static (ModelConfig, StateDict) LoadHfDirectory(string dir)
    {
        var hf = HfConfig.Load(Path.Combine(dir, "config.json"));
        var adapter = Architectures.For(hf.ModelType);
        var config = adapter.ReadConfig(hf);
        using var checkpoint = SafeTensorsCheckpoint.OpenDirectory(dir);
        return (config, adapter.Convert(config, checkpoint));
    }
}
