using Glassbox.Models;

namespace Glassbox.Loading.Adapters;

/// <summary>
/// Maps one checkpoint family onto the runtime: its config.json onto a <see cref="ModelConfig"/>,
/// its tensor names and layouts onto the TransformerLens-shaped <see cref="StateDict"/>.
/// </summary>
public interface IArchitectureAdapter
{
    /// <summary>The Hugging Face <c>model_type</c> values this adapter reads.</summary>
    IReadOnlyList<string> ModelTypes { get; }

    ModelConfig ReadConfig(HfConfig hf);

    StateDict Convert(ModelConfig cfg, ITensorSource source);
}

/// <summary>The adapters Glassbox ships, by model_type.</summary>
public static class Architectures
{
    public static readonly IReadOnlyList<IArchitectureAdapter> All = new IArchitectureAdapter[]
    {
        new Gpt2Adapter(), new LlamaAdapter(), new GptNeoXAdapter(), new MixtralAdapter(), new Qwen3Adapter(), new GemmaAdapter(),
        new OlmoAdapter(), new PhiAdapter(), new Phi3Adapter(), new StableLmAdapter(), new FalconAdapter(),
    };

    public static IArchitectureAdapter For(string modelType) =>
        All.FirstOrDefault(a => a.ModelTypes.Contains(modelType))
        ?? throw new ModelFormatException($"Unknown model_type '{modelType}'. Supported: {string.Join(", ", All.SelectMany(a => a.ModelTypes))}.");

    /// <summary>The activation named by config field <paramref name="key"/> (<c>hidden_act</c>, <c>activation_function</c>, …), <paramref name="fallback"/> when absent.</summary>
    public static Activation ParseActivation(HfConfig hf, string key, string fallback)
    {
        string name = hf.String(key, fallback);
        return name switch
        {
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Activation.GeluNew,
            "gelu" => Activation.Gelu,
            "relu" => Activation.Relu,
            "silu" or "swish" => Activation.Silu,
            _ => throw new ModelFormatException($"{hf.Path}: config.json field '{key}' is '{name}', an activation Glassbox does not implement (supported: gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu, silu)."),
        };
    }
}
