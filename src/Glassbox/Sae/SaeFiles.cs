using System.Text.Json;
using System.Text.Json.Nodes;
using Glassbox.Loading;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// SAELens's on-disk layout: a directory with <c>cfg.json</c> and <c>sae_weights.safetensors</c> (W_enc [d_in, d_sae],
/// b_enc, W_dec [d_sae, d_in], b_dec, plus <c>threshold</c> for JumpReLU/BatchTopK and b_gate, b_mag, r_mag for Gated),
/// so SAELens releases and Gemma Scope load. Reads both config layouts: the flat one (TopK as
/// <c>activation_fn_str: "topk"</c> with <c>activation_fn_kwargs.k</c>) and release 6's, whose model and hook fields sit
/// in a nested <c>metadata</c> object and which stores <c>k</c> directly. A transcoder's target hook is Glassbox's
/// <c>hook_name_out</c>.
/// </summary>
public static class SaeFiles
{
    public const string ConfigFile = "cfg.json";
    public const string WeightsFile = "sae_weights.safetensors";

    public static void Save(SparseAutoencoder sae, string directory)
    {
        Directory.CreateDirectory(directory);
        var c = sae.Config;
        var cfg = new JsonObject
        {
            ["architecture"] = SaeConfig.Name(c.Architecture),
            ["d_in"] = c.DIn,
            ["d_sae"] = c.DSae,
            ["dtype"] = c.Dtype,
            ["device"] = "cpu",
            ["apply_b_dec_to_input"] = c.ApplyBDecToInput,
            ["normalize_activations"] = c.NormalizeActivations,
            ["hook_name"] = c.HookName,
            ["hook_layer"] = c.HookLayer,
            ["hook_head_index"] = null,
            ["model_name"] = c.ModelName,
            ["context_size"] = c.ContextSize,
            ["prepend_bos"] = c.PrependBos,
            ["dataset_path"] = c.DatasetPath,
        };
        if (c.Architecture is SaeArchitecture.TopK or SaeArchitecture.BatchTopK)
        {
            cfg["k"] = c.K;
            cfg["activation_fn_str"] = "topk";
            cfg["activation_fn_kwargs"] = new JsonObject { ["k"] = c.K };
        }
        if (c.Architecture == SaeArchitecture.JumpRelu) cfg["jumprelu_init_threshold"] = c.JumpReluInitThreshold;
        if (c.TargetHookName is not null) cfg["hook_name_out"] = c.TargetHookName;
        File.WriteAllText(Path.Combine(directory, ConfigFile), cfg.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        SafeTensorsWriter.Write(Path.Combine(directory, WeightsFile), sae.TensorNames.Select(n => KeyValuePair.Create(n, sae[n])));
    }

    public static SparseAutoencoder Load(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var config = LoadConfig(directory);
        var weightsPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weightsPath)) throw new GlassboxException($"{directory}: no {WeightsFile}.");
        using var file = SafeTensorsFile.Open(weightsPath);
        using var scope = NewDisposeScope();
        var weights = file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name, dtype, device));
        return SparseAutoencoder.Create(config, weights);
    }

    public static SaeConfig LoadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) throw new GlassboxException($"{directory}: no {ConfigFile} (an SAE directory holds {ConfigFile} and {WeightsFile}).");
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new GlassboxException($"{path}: not a JSON object."); }
        catch (JsonException e) { throw new GlassboxException($"{path}: not valid JSON ({e.Message})."); }
        var meta = root["metadata"] as JsonObject;
        JsonNode? Field(string name) => root[name] ?? meta?[name];
        T Required<T>(string name) => Field(name) is JsonNode n ? n.GetValue<T>() : throw new GlassboxException($"{path}: missing the field '{name}'.");

        string activation = Field("activation_fn_str")?.GetValue<string>() ?? "relu";
        var architecture = Field("architecture") is JsonNode a ? SaeConfig.Parse(a.GetValue<string>())
            : activation == "topk" ? SaeArchitecture.TopK : SaeArchitecture.Standard;
        if (architecture == SaeArchitecture.Standard && activation == "topk") architecture = SaeArchitecture.TopK;
        int k = Field("k")?.GetValue<int>() ?? (Field("activation_fn_kwargs") as JsonObject)?["k"]?.GetValue<int>() ?? 0;
        if (architecture is SaeArchitecture.TopK or SaeArchitecture.BatchTopK && k == 0) throw new GlassboxException($"{path}: a TopK SAE needs 'k'.");
        string normalize = Field("normalize_activations")?.GetValue<string>() ?? "none";
        if (normalize != "none")
            throw new GlassboxException($"{path}: normalize_activations '{normalize}' needs a scale factor the file does not hold; fold it into the weights (SAELens's fold_activation_norm_scaling_factor) and save with 'none'.");
        return new SaeConfig
        {
            Architecture = architecture,
            DIn = Required<int>("d_in"),
            DSae = Required<int>("d_sae"),
            K = k == 0 ? new SaeConfig().K : k,
            ApplyBDecToInput = Field("apply_b_dec_to_input")?.GetValue<bool>() ?? true,
            HookName = Required<string>("hook_name"),
            TargetHookName = Field("hook_name_out")?.GetValue<string>(),
            NormalizeActivations = normalize,
            ModelName = Field("model_name")?.GetValue<string>() ?? "",
            ContextSize = Field("context_size")?.GetValue<int>() ?? 0,
            PrependBos = Field("prepend_bos")?.GetValue<bool>() ?? true,
            DatasetPath = Field("dataset_path")?.GetValue<string>() ?? "",
            Dtype = Field("dtype")?.GetValue<string>() ?? "float32",
            JumpReluInitThreshold = Field("jumprelu_init_threshold")?.GetValue<double>() ?? new SaeConfig().JumpReluInitThreshold,
        }.Validated();
    }
}
