using static TorchSharp.torch;

namespace Glassbox.Loading;

/// <summary>Named checkpoint tensors as an adapter sees them: float32 on the CPU, read on demand.</summary>
public interface ITensorSource
{
    bool Contains(string name);

    /// <summary>The tensor as float32 on the CPU; a missing name is a <see cref="ModelFormatException"/>.</summary>
    Tensor Read(string name);
}
