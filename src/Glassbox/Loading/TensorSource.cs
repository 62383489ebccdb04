using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Glassbox.Loading;

/// <summary>Named checkpoint tensors as an adapter sees them: float32 on the CPU, read on demand.</summary>
public interface ITensorSource
{
    bool Contains(string name);

    /// <summary>The tensor as float32 on the CPU; a missing name is a <see cref="ModelFormatException"/>.</summary>
    Tensor Read(string name);
}

/// <summary>A source that remembers which names were read, so the loader can refuse a checkpoint with tensors it did not use.</summary>
internal sealed class TrackedTensorSource(ITensorSource inner) : ITensorSource
{
    readonly HashSet<string> read = new(StringComparer.Ordinal);

    public bool Contains(string name) => inner.Contains(name);

    public Tensor Read(string name)
    {
        read.Add(name);
        return inner.Read(name);
    }

    public bool WasRead(string name) => read.Contains(name);
}

public static partial class TensorSources
{
    // Non-parameter buffers older exports saved beside the weights: rotary tables, GPT-2's and GPT-NeoX's causal masks.
    [GeneratedRegex(@"(\.inv_freq|\.attn\.(bias|masked_bias)|\.attention\.(bias|masked_bias))$")]
    private static partial Regex BufferPattern();

    /// <summary>Whether a checkpoint tensor is a recomputed buffer (not a weight), which loaders may leave unread.</summary>
    public static bool IsBuffer(string name) => BufferPattern().IsMatch(name);

    /// <summary>
    /// <paramref name="name"/> read as float32, checked to have <paramref name="shape"/> (what config.json implies): a tensor
    /// of another shape is an error naming it, rather than a reshape failure later or a broadcast that builds another model.
    /// </summary>
    public static Tensor ReadShaped(this ITensorSource source, string name, params long[] shape)
    {
        var t = source.Read(name);
        if (t.shape.SequenceEqual(shape)) return t;
        var actual = t.shape;
        t.Dispose();
        throw new ModelFormatException($"Checkpoint tensor '{name}' has shape [{string.Join(", ", actual)}]; config.json implies [{string.Join(", ", shape)}].");
    }
}
