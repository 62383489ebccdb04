using System.Text.Json;
using Glassbox.Loading.Adapters;
using Glassbox.Models;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Loading;

/// <summary>
/// Writes a model as a Hugging Face directory (config.json, model.safetensors, and tokenizer.json for
/// word-level tokenizers) in its family's exact layout, so that <see cref="ModelLoader"/> — or
/// transformers — reads it back.
/// </summary>
public static class ModelSaver
{
    public static void Save(HookedTransformer model, string dir, ITokenizer? tokenizer = null, string? family = null)
    {
        var cfg = model.Config;
        var exporter = Architectures.All.OfType<IArchitectureExporter>()
            .FirstOrDefault(e => ((IArchitectureAdapter)e).ModelTypes.Contains(family ?? FamilyOf(cfg)))
            ?? throw new GlassboxException($"No Hugging Face layout to write a '{family ?? cfg.Architecture}' model in (supported: gpt2, llama).");
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        using var sd = model.ExportStateDict();
        var config = exporter.ExportConfig(cfg);
        var tensors = exporter.ExportTensors(cfg, sd).Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.to(ScalarType.Float32, CPU).contiguous())).ToList();
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        if (tokenizer is not null && PaddedVocabulary.Unwrap(tokenizer) is WordLevelTokenizer words) words.Save(Path.Combine(dir, "tokenizer.json"));
    }

    /// <summary>Which family's layout a config fits: learned positions → GPT-2, rotary with RMSNorm → Llama.</summary>
    static string FamilyOf(ModelConfig c) => c.Positional == PositionalKind.Learned ? "gpt2" : "llama";
}
