using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Weights by TransformerLens name and shape (see docs/architecture.md): what adapters produce,
/// what weight processing rewrites, and what the transformer is built from. Owns its tensors.
/// </summary>
public sealed class StateDict : IDisposable
{
    readonly Dictionary<string, Tensor> tensors = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => tensors.Keys;

    public bool Contains(string name) => tensors.ContainsKey(name);

    public Tensor this[string name]
    {
        get => tensors.TryGetValue(name, out var t) ? t : throw new ModelFormatException($"The weights lack '{name}'.");
        set
        {
            var owned = value.DetachFromDisposeScope();
            if (tensors.Remove(name, out var old) && !ReferenceEquals(old, owned)) old.Dispose();
            tensors[name] = owned;
        }
    }

    public Tensor? TryGet(string name) => tensors.GetValueOrDefault(name);

    public void Remove(string name)
    {
        if (tensors.Remove(name, out var t)) t.Dispose();
    }

    /// <summary>A deep copy in float64 on the CPU, for exact weight processing and tests.</summary>
    public StateDict Clone(ScalarType? dtype = null, Device? device = null)
    {
        var copy = new StateDict();
        foreach (var (k, v) in tensors) copy[k] = v.detach().to(dtype ?? v.dtype, device ?? v.device, copy: true);
        return copy;
    }

    public long ParameterCount => tensors.Values.Sum(t => t.numel());

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}
