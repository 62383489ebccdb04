namespace Glassbox.Web;

/// <summary>A request for a view of one prompt; the prompt is required, the view's other fields are optional.</summary>
public interface IPromptRequest
{
    string? Prompt { get; }
}

// Request bodies of the JSON API (see docs/web.md).
public sealed record TokensRequest(string? Prompt, int? Top) : IPromptRequest;

public sealed record AttentionRequest(string? Prompt, int? Layer, int? Thumbnail) : IPromptRequest;

public sealed record LensRequest(string? Prompt, string? Method) : IPromptRequest;

public sealed record LoadRequest(string? Path);

public sealed record AttributionRequest(string? Prompt, string? Method, string? Target, bool? Words) : IPromptRequest;

public sealed record DlaRequest(string? Prompt, string? Answer, string? Wrong) : IPromptRequest;

public sealed record PatchingRequest(string? Prompt, string? Corrupted, string? Answer, string? Wrong, string? Site) : IPromptRequest;

public sealed record NeuronRequest(string? Prompt, int? Layer, int? Neuron) : IPromptRequest;

public sealed record FeatureRequest(string? Prompt, int? Feature) : IPromptRequest;

public sealed record FlowRequest(string? Prompt, double? Threshold) : IPromptRequest;

public sealed record FlowNodeRequest(string? Prompt, string? Node, int? Top) : IPromptRequest;

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
