using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Keys and values (after rotary) of the positions already run, per layer, so that generation feeds
/// only the new token. Owns its tensors; dispose it when the generation ends.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] keys, values;

    public KvCache(int nLayers)
    {
        keys = new Tensor?[nLayers];
        values = new Tensor?[nLayers];
    }

    /// <summary>Number of positions cached.</summary>
    public long Length => keys[0]?.shape[1] ?? 0;

    /// <summary>Appends this step's k, v [batch, pos, kv_head, d_head] and returns the full ones.</summary>
    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        var (oldK, oldV) = (keys[layer], values[layer]);
        var newK = oldK is null ? k.detach() : cat(new[] { oldK, k.detach() }, 1);
        var newV = oldV is null ? v.detach() : cat(new[] { oldV, v.detach() }, 1);
        oldK?.Dispose();
        oldV?.Dispose();
        keys[layer] = newK.DetachFromDisposeScope();
        values[layer] = newV.DetachFromDisposeScope();
        return (keys[layer]!, values[layer]!);
    }

    public void Dispose()
    {
        foreach (var t in keys.Concat(values)) t?.Dispose();
        Array.Clear(keys);
        Array.Clear(values);
    }
}
