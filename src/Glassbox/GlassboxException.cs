namespace Glassbox;

/// <summary>
/// An error caused by the caller's input (a bad file, config, prompt or name), with a message that
/// names the problem. Surfaces print <see cref="Exception.Message"/> and exit; they never show a stack trace for these.
/// </summary>
public class GlassboxException : Exception
{
    public GlassboxException(string message) : base(message) { }
    public GlassboxException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A checkpoint, safetensors file, tokenizer or config that cannot be read as claimed.</summary>
public sealed class ModelFormatException : GlassboxException
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}
