using System.Text.Json.Nodes;
using Glassbox.Loading;
using Glassbox.Tests.Cli;
using TorchSharp;

namespace Glassbox.Tests.Families;

/// <summary>
/// Bad configs and checkpoints of the reference families: a copy of the folder in a temp directory, edited, then
/// <c>glassbox score</c> must exit 2 with an error naming the field or tensor (never a crash, never another model).
/// </summary>
public class FamilyInputErrorTests
{
    sealed record Case(string Family, Action<string> Edit, params string[] Expected);

    static Action<string> Config(Action<JsonObject> edit) => dir =>
    {
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    };

    static Action<string> Set(string key, JsonNode? value) => Config(j => j[key] = value);

    static Action<string> Remove(string key) => Config(j => j.Remove(key));

    static Action<string> RopeScaling(string type, params (string Key, JsonNode Value)[] more) => Config(j =>
    {
        var rs = new JsonObject { ["rope_type"] = type, ["factor"] = 4.0 };
        foreach (var (k, v) in more) rs[k] = v;
        j["rope_scaling"] = rs;
    });

    static JsonArray Strings(params string[] s) => new(s.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray());

    /// <summary>Rewrites model.safetensors through <paramref name="edit"/> (null drops the tensor), adding zero tensors <paramref name="extra"/>.</summary>
    static Action<string> Tensors(Func<string, torch.Tensor, torch.Tensor?> edit, params (string Name, long[] Shape)[] extra) => dir =>
    {
        var path = Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName);
        using var scope = torch.NewDisposeScope();
        var kept = new List<KeyValuePair<string, torch.Tensor>>();
        using (var file = SafeTensorsFile.Open(path))
            foreach (var info in file.Tensors)
                if (edit(info.Name, file.Read(info.Name)) is { } t) kept.Add(new(info.Name, t));
        kept.AddRange(extra.Select(e => new KeyValuePair<string, torch.Tensor>(e.Name, torch.zeros(e.Shape))));
        SafeTensorsWriter.Write(path, kept);
    };

    static Action<string> Drop(string name) => Tensors((n, t) => n == name ? null : t);

    /// <summary>Keeps the first <paramref name="rows"/> rows (entries) of tensor <paramref name="name"/>.</summary>
    static Action<string> Narrow(string name, long rows) => Tensors((n, t) => n == name ? t.narrow(0, 0, rows) : t);

    static Action<string> Add(string name, params long[] shape) => Tensors((_, t) => t, (name, shape));

    static readonly Dictionary<string, Case> Cases = new()
    {
        // config.json
        ["unknown model_type"] = new("llama", Set("model_type", "mamba2"), "Unknown model_type 'mamba2'", "gemma3_text", "qwen3_moe", "falcon"),
        ["mixtral without num_local_experts"] = new("mixtral", Remove("num_local_experts"), "missing the required field 'num_local_experts'", "mixtral"),
        ["mixtral without num_experts_per_tok"] = new("mixtral", Remove("num_experts_per_tok"), "'num_experts_per_tok'"),
        ["qwen3_moe without moe_intermediate_size"] = new("qwen3_moe", Remove("moe_intermediate_size"), "'moe_intermediate_size'"),
        ["qwen3_moe without num_experts"] = new("qwen3_moe", Remove("num_experts"), "'num_experts'"),
        ["qwen3_moe decoder_sparse_step 0"] = new("qwen3_moe", Set("decoder_sparse_step", 0), "decoder_sparse_step 0"),
        ["falcon_new_arch without num_kv_heads"] = new("falcon_new_arch", Remove("num_kv_heads"), "'num_kv_heads'"),
        ["gemma2 without intermediate_size"] = new("gemma2", Remove("intermediate_size"), "'intermediate_size'", "gemma2"),
        ["llama3 rope_scaling without low_freq_factor"] = new("llama3", Config(j => j["rope_scaling"]!.AsObject().Remove("low_freq_factor")), "rope_scaling", "'low_freq_factor'"),
        ["llama3 rope_scaling without a type"] = new("llama3", Config(j => j["rope_scaling"]!.AsObject().Remove("rope_type")), "rope_scaling", "'type'"),
        ["llama heads not an integer"] = new("llama", Set("num_attention_heads", 4.5), "'num_attention_heads' should be an integer"),
        ["mistral sliding_window a string"] = new("mistral", Set("sliding_window", "16"), "'sliding_window' should be a number"),
        ["llama rope yarn"] = new("llama", RopeScaling("yarn"), "rope_scaling type 'yarn'"),
        ["llama rope dynamic"] = new("llama", RopeScaling("dynamic"), "rope_scaling type 'dynamic'"),
        ["mistral rope dynamic (old key)"] = new("mistral", Set("rope_scaling", new JsonObject { ["type"] = "dynamic", ["factor"] = 2.0 }), "rope_scaling type 'dynamic'"),
        ["phi3 rope longrope"] = new("phi3", RopeScaling("longrope", ("short_factor", new JsonArray(1.0, 1.0, 1.0)), ("long_factor", new JsonArray(2.0, 2.0, 2.0))), "rope_scaling type 'longrope'"),
        ["qwen2 rope yarn"] = new("qwen2", RopeScaling("yarn"), "rope_scaling type 'yarn'"),
        ["qwen3_moe rope yarn"] = new("qwen3_moe", RopeScaling("yarn"), "rope_scaling type 'yarn'"),
        ["gemma3 rope dynamic"] = new("gemma3", RopeScaling("dynamic"), "rope_scaling type 'dynamic'"),
        ["falcon rope dynamic"] = new("falcon", RopeScaling("dynamic"), "rope_scaling type 'dynamic'"),
        ["gpt_neox rope dynamic"] = new("gpt_neox", RopeScaling("dynamic"), "rope_scaling type 'dynamic'"),
        ["stablelm rope yarn"] = new("stablelm", RopeScaling("yarn"), "rope_scaling type 'yarn'"),
        ["olmo2 rope yarn"] = new("olmo2", RopeScaling("yarn"), "rope_scaling type 'yarn'"),
        ["llama hidden_act relu2"] = new("llama", Set("hidden_act", "relu2"), "'hidden_act' is 'relu2'"),
        ["mixtral hidden_act prelu"] = new("mixtral", Set("hidden_act", "prelu"), "'hidden_act' is 'prelu'"),
        ["gemma2 hidden_activation gelu_10"] = new("gemma2", Set("hidden_activation", "gelu_10"), "'hidden_activation' is 'gelu_10'"),
        ["phi hidden_act quick_gelu"] = new("phi", Set("hidden_act", "quick_gelu"), "'hidden_act' is 'quick_gelu'"),
        ["falcon activation tanh"] = new("falcon", Set("activation", "tanh"), "'activation' is 'tanh'"),
        ["gpt_neox hidden_act gelu_10"] = new("gpt_neox", Set("hidden_act", "gelu_10"), "'hidden_act' is 'gelu_10'"),
        ["gemma2 layer_types chunked"] = new("gemma2", Set("layer_types", Strings("sliding_attention", "chunked_attention")), "'layer_types' entry 1 is 'chunked_attention'"),
        ["gemma3 layer_types linear"] = new("gemma3", Set("layer_types", Strings("linear_attention", "sliding_attention", "full_attention")), "'layer_types' entry 0 is 'linear_attention'"),
        ["mistral layer_types chunked"] = new("mistral", Set("layer_types", Strings("full_attention", "chunked_attention")), "'layer_types' entry 1 is 'chunked_attention'"),
        ["qwen2 layer_types unknown, no window"] = new("qwen2", Set("layer_types", Strings("full_attention", "mamba")), "'layer_types' entry 1 is 'mamba'"),
        ["gemma2 layer_types too long"] = new("gemma2", Set("layer_types", Strings("sliding_attention", "full_attention", "sliding_attention")), "'layer_types' has 3 entries for 2 layers"),
        ["gemma3 layer_types too short"] = new("gemma3", Set("layer_types", Strings("sliding_attention", "full_attention")), "'layer_types' has 2 entries for 3 layers"),
        ["qwen2 layer_types too short"] = new("qwen2", Set("layer_types", Strings("full_attention")), "'layer_types' has 1 entries for 2 layers"),
        ["gemma2 layer_types not a list"] = new("gemma2", Set("layer_types", "sliding_attention"), "'layer_types' should be a list of strings"),
        ["falcon alibi"] = new("falcon", Set("alibi", true), "alibi"),
        ["falcon_new_arch alibi"] = new("falcon_new_arch", Set("alibi", true), "alibi"),
        ["phi qk_layernorm"] = new("phi", Set("qk_layernorm", true), "qk_layernorm"),
        ["stablelm qk_layernorm"] = new("stablelm", Set("qk_layernorm", true), "qk_layernorm"),
        ["llama kv heads do not divide"] = new("llama", Set("num_key_value_heads", 3), "n_kv_heads (3)"),

        // missing tensors
        ["gemma2 without a post_feedforward_layernorm"] = new("gemma2", Drop("model.layers.1.post_feedforward_layernorm.weight"), "no tensor 'model.layers.1.post_feedforward_layernorm.weight'"),
        ["gemma3 without a pre_feedforward_layernorm"] = new("gemma3", Drop("model.layers.2.pre_feedforward_layernorm.weight"), "no tensor 'model.layers.2.pre_feedforward_layernorm.weight'"),
        ["mixtral without an expert"] = new("mixtral", Drop("model.layers.1.block_sparse_moe.experts.3.w2.weight"), "no tensor 'model.layers.1.block_sparse_moe.experts.3.w2.weight'"),
        ["qwen3_moe without a router"] = new("qwen3_moe", Drop("model.layers.0.mlp.gate.weight"), "no tensor 'model.layers.0.mlp.gate.weight'"),
        ["qwen3 without a k_norm"] = new("qwen3", Drop("model.layers.0.self_attn.k_norm.weight"), "no tensor 'model.layers.0.self_attn.k_norm.weight'"),
        ["olmo2 without a q_norm"] = new("olmo2", Drop("model.layers.1.self_attn.q_norm.weight"), "no tensor 'model.layers.1.self_attn.q_norm.weight'"),
        ["phi3 without gate_up_proj"] = new("phi3", Drop("model.layers.1.mlp.gate_up_proj.weight"), "no tensor 'model.layers.1.mlp.gate_up_proj.weight'"),
        ["falcon without query_key_value"] = new("falcon", Drop("transformer.h.1.self_attention.query_key_value.weight"), "no tensor 'transformer.h.1.self_attention.query_key_value.weight'"),
        ["phi without the lm_head bias"] = new("phi", Drop("lm_head.bias"), "no tensor 'lm_head.bias'"),
        ["llama without its untied lm_head"] = new("llama", Drop("lm_head.weight"), "no tensor 'lm_head.weight'"),
        ["qwen2 without a layer-1 q bias"] = new("qwen2", Drop("model.layers.1.self_attn.q_proj.bias"), "no tensor 'model.layers.1.self_attn.q_proj.bias'"),

        // tensors of the wrong shape
        ["qwen3 q_norm too narrow"] = new("qwen3", Narrow("model.layers.0.self_attn.q_norm.weight", 8), "'model.layers.0.self_attn.q_norm.weight' has shape [8]", "[16]"),
        ["gemma3 k_norm too narrow"] = new("gemma3", Narrow("model.layers.1.self_attn.k_norm.weight", 8), "'model.layers.1.self_attn.k_norm.weight' has shape [8]"),
        ["olmo2 joint q_norm per head"] = new("olmo2", Narrow("model.layers.0.self_attn.q_norm.weight", 8), "'model.layers.0.self_attn.q_norm.weight' has shape [8]", "[32]"),
        ["phi3 fused qkv short of rows"] = new("phi3", Narrow("model.layers.0.self_attn.qkv_proj.weight", 56), "'model.layers.0.self_attn.qkv_proj.weight' has shape [56, 32]", "[64, 32]"),
        ["falcon_new_arch fused qkv short of rows"] = new("falcon_new_arch", Narrow("transformer.h.1.self_attention.query_key_value.weight", 40), "'transformer.h.1.self_attention.query_key_value.weight' has shape [40, 32]", "[64, 32]"),
        ["gpt_neox fused qkv short of rows"] = new("gpt_neox", Narrow("gpt_neox.layers.0.attention.query_key_value.weight", 64), "'gpt_neox.layers.0.attention.query_key_value.weight' has shape [64, 32]"),
        ["mixtral router of three experts"] = new("mixtral", Narrow("model.layers.0.block_sparse_moe.gate.weight", 3), "'model.layers.0.block_sparse_moe.gate.weight' has shape [3, 32]", "[4, 32]"),
        ["qwen3_moe expert too narrow"] = new("qwen3_moe", Narrow("model.layers.1.mlp.experts.2.gate_proj.weight", 12), "'model.layers.1.mlp.experts.2.gate_proj.weight' has shape [12, 32]", "[24, 32]"),
        ["llama gate_proj of one row (would broadcast)"] = new("llama", Narrow("model.layers.0.mlp.gate_proj.weight", 1), "'model.layers.0.mlp.gate_proj.weight' has shape [1, 32]", "[48, 32]"),
        ["gemma2 post_attention_layernorm too narrow"] = new("gemma2", Narrow("model.layers.0.post_attention_layernorm.weight", 16), "'model.layers.0.post_attention_layernorm.weight' has shape [16]"),
        ["stablelm norm bias too narrow"] = new("stablelm", Narrow("model.layers.1.input_layernorm.bias", 1), "'model.layers.1.input_layernorm.bias' has shape [1]"),
        ["smollm2 embedding short of a token"] = new("smollm2", Narrow("model.embed_tokens.weight", 255), "'model.embed_tokens.weight' has shape [255, 32]", "[256, 32]"),

        // tensors the layout does not read: the config describes another model
        ["qwen3 checkpoint labelled llama"] = new("qwen3", Set("model_type", "llama"), "not part of the 'llama' layout", "self_attn.k_norm.weight"),
        ["llama with a stray q_norm"] = new("llama", Add("model.layers.0.self_attn.q_norm.weight", 8), "not part of the 'llama' layout", "'model.layers.0.self_attn.q_norm.weight'"),
        ["gemma3 labelled gemma2"] = new("gemma3", Config(j => { j["model_type"] = "gemma2"; j["layer_types"] = Strings("sliding_attention", "sliding_attention", "full_attention"); }), "not part of the 'gemma2' layout", "q_norm"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    static string CopyOf(string family, TempDirectory dir)
    {
        foreach (var name in new[] { "config.json", SafeTensorsCheckpoint.SingleFileName })
        {
            File.Copy(Path.Combine(HfReferences.Dir(family), name), dir.File(name));
            File.SetAttributes(dir.File(name), FileAttributes.Normal); // the shared folders are read-only
        }
        return dir.Path;
    }

    static void AssertRefused(string dir, params string[] expected)
    {
        var (exit, _, stderr) = CliHarness.Run("score", "--model", dir, "--ids", "1,2,3");
        Assert.True(exit == 2, $"exit {exit}, expected 2: {stderr}");
        Assert.StartsWith("error: ", stderr);
        foreach (var e in expected) Assert.Contains(e, stderr);
    }

    [SharedTheory]
    [MemberData(nameof(CaseNames))]
    public void BadInputIsAnErrorNamingTheFieldOrTensor(string name)
    {
        var c = Cases[name];
        using var dir = new TempDirectory();
        var path = CopyOf(c.Family, dir);
        c.Edit(path);
        AssertRefused(path, c.Expected);
    }

    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void EveryFamilyNamesAMissingLayerCountAndVocabulary(string family)
    {
        foreach (var field in new[] { "num_hidden_layers", "vocab_size", "num_attention_heads" })
        {
            using var dir = new TempDirectory();
            var path = CopyOf(family, dir);
            Remove(field)(path);
            AssertRefused(path, $"missing the required field '{field}'");
        }
    }

    [SharedTheory]
    [MemberData(nameof(HfReferences.Names), MemberType = typeof(HfReferences))]
    public void TheUneditedCopyLoads(string family)
    {
        // The copy-and-rewrite machinery itself changes nothing: a rewrite keeping every tensor scores like the original.
        using var dir = new TempDirectory();
        var path = CopyOf(family, dir);
        Tensors((_, t) => t)(path);
        var (exit, copied, err) = CliHarness.Run("score", "--model", path, "--ids", "1,2,3", "--json");
        Assert.True(exit == 0, err);
        var (_, original, _) = CliHarness.Run("score", "--model", HfReferences.Dir(family), "--ids", "1,2,3", "--json");
        Assert.Equal(Logprobs(original), Logprobs(copied));
    }

    public static TheoryData<string, string, double> Defaults => new()
    {
        { "gemma", "head_dim", 256 }, { "gemma2", "query_pre_attn_scalar", 256 }, { "gemma2", "attn_logit_softcapping", 50 },
        { "gemma2", "final_logit_softcapping", 30 }, { "gemma2", "sliding_window", 4096 }, { "gemma3", "sliding_window", 4096 },
        { "gemma3", "rope_theta", 1e6 }, { "qwen3", "head_dim", 128 }, { "mistral", "sliding_window", 4096 },
        { "mixtral", "rope_theta", 1e6 }, { "mixtral", "rms_norm_eps", 1e-5 }, { "phi3", "rms_norm_eps", 1e-5 },
        { "olmo2", "rms_norm_eps", 1e-5 }, { "gpt_neox", "rotary_pct", 0.25 },
    };

    /// <summary>
    /// A field the config leaves out means what Transformers' config class defaults it to (as it would run the model), not
    /// a guess of ours; the reference configs all set these fields, so each is checked by removing it.
    /// </summary>
    [SharedTheory]
    [MemberData(nameof(Defaults))]
    public void AnAbsentFieldIsTransformersDefault(string family, string key, double value)
    {
        string ConfigWith(Action<string> edit)
        {
            using var dir = new TempDirectory();
            edit(CopyOf(family, dir));
            var hf = HfConfig.Load(dir.File("config.json"));
            return Glassbox.Loading.Adapters.Architectures.For(hf.ModelType).ReadConfig(hf).ToString();
        }
        string absent = ConfigWith(Remove(key));
        Assert.Equal(ConfigWith(Set(key, value)), absent);
        Assert.NotEqual(ConfigWith(Set(key, value * 2)), absent); // the field is read at all
    }

    [SharedFact]
    public void AnExplicitNullTurnsAGemma2SoftCapOff()
    {
        using var dir = new TempDirectory();
        var path = CopyOf("gemma2", dir);
        Set("attn_logit_softcapping", null)(path);
        var (config, weights) = ModelLoader.LoadWeights(path);
        weights.Dispose();
        Assert.Null(config.AttnSoftcap);
        Assert.Equal(6.0, config.FinalSoftcap);
    }

    static string Logprobs(string json) => JsonNode.Parse(json[json.IndexOf('{')..])!["logprobs"]!.ToJsonString();
}
