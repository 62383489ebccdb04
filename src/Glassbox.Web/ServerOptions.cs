using Glassbox.Mechanisms;
using static TorchSharp.torch;

namespace Glassbox.Web;

/// <summary>How <c>glassbox serve</c> starts: the first model, where other models may come from, and the request limits.</summary>
public sealed record ServerOptions
{
    public required string ModelPath { get; init; }
    public string? TokenizerPath { get; init; }
    public Device? Device { get; init; }
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>A tuned lens for the start model (Glassbox .safetensors or a tuned-lens directory), offered as lens method <c>tuned</c>.</summary>
    public string? TunedLensPath { get; init; }

    /// <summary>An SAE for the start model (SAELens layout: cfg.json + sae_weights.safetensors), shown on the neuron page's feature source.</summary>
    public string? SaePath { get; init; }

    /// <summary>The probe and thresholds of the mechanisms view's detector run (once per loaded model).</summary>
    public MechanismOptions Mechanisms { get; init; } = new();

    /// <summary>Address to bind; loopback unless the user asks otherwise (the server then warns).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Secret every request must carry (required when <see cref="Host"/> is not loopback); see <see cref="RequestGuard"/>.</summary>
    public string? Token { get; init; }

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8765;

    /// <summary>Directories the model picker may load from; empty means the start model's parent directory.</summary>
    public IReadOnlyList<string> Roots { get; init; } = [];

    /// <summary>Most tokens a prompt may have (further capped by the model's context length).</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Largest request body accepted; prompts are short, so anything bigger is refused before it is read.</summary>
    public long MaxBodyBytes { get; init; } = 64 * 1024;
}
