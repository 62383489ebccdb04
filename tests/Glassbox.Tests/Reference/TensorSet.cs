namespace Glassbox.Tests.Reference;

/// <summary>A checkpoint's named float32 tensors, read with their expected shapes checked.</summary>
public sealed class TensorSet
{
    readonly IReadOnlyDictionary<string, (float[] Data, int[] Shape)> tensors;

    public TensorSet(IReadOnlyDictionary<string, (float[] Data, int[] Shape)> tensors) => this.tensors = tensors;

    public bool Has(string name) => tensors.ContainsKey(name);

    /// <summary>The tensor's data, after checking that its shape is exactly <paramref name="shape"/>.</summary>
    public float[] Get(string name, params int[] shape)
    {
        if (!tensors.TryGetValue(name, out var tensor)) throw new KeyNotFoundException($"The checkpoint has no tensor '{name}'.");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"Tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}].");
        if (tensor.Data.Length != shape.Aggregate(1, (a, b) => a * b))
            throw new InvalidDataException($"Tensor '{name}' has {tensor.Data.Length} values for shape [{string.Join(", ", shape)}].");
        return tensor.Data;
    }

    /// <summary>The tensor if present (optional biases), else null.</summary>
    public float[]? GetOptional(string name, params int[] shape) => Has(name) ? Get(name, shape) : null;
}
