namespace Glassbox.Web;

/// <summary>Request bodies of the JSON API (see docs/web.md); every field but the prompt is optional.</summary>
public sealed record TokensRequest(string? Prompt, int? Top);

public sealed record AttentionRequest(string? Prompt, int? Layer, int? Thumbnail);

public sealed record LensRequest(string? Prompt, string? Method);

public sealed record LoadRequest(string? Path);

public sealed record AttributionRequest(string? Prompt, string? Method, string? Target);

public sealed record DlaRequest(string? Prompt, string? Answer, string? Wrong);

public sealed record PatchingRequest(string? Prompt, string? Corrupted, string? Answer, string? Wrong, string? Site);

public sealed record NeuronRequest(string? Prompt, int? Layer, int? Neuron);

public sealed record FlowRequest(string? Prompt, double? Threshold);

public sealed record FlowNodeRequest(string? Prompt, string? Node, int? Top);

static class Limits
{
    /// <summary>An optional integer field, defaulted and range-checked with a message naming the field.</summary>
    public static int Check(string name, int? value, int fallback, int min, int max)
    {
        int v = value ?? fallback;
        if (v < min || v > max) throw new ApiException(400, $"{name} must be between {min} and {max}, got {v}.");
        return v;
    }
}
