using TorchSharp;

namespace Glassbox.Loading;

/// <summary>
/// The safetensors weights of a Hugging Face model directory, whether in one <c>model.safetensors</c> or
/// sharded under <c>model.safetensors.index.json</c>, behind one name → tensor API. Every shard is opened
/// and cross-checked against the index up front, so a missing shard or tensor fails before any weight is read.
/// </summary>
public sealed class SafeTensorsCheckpoint : ITensorSource, IDisposable
{
    public const string SingleFileName = "model.safetensors";

    readonly SafeTensorsFile[] _shards;
    readonly Dictionary<string, SafeTensorsFile> _owners;

    public string Directory { get; }
    /// <summary>All tensors across shards, sorted by name; offsets are relative to each tensor's own shard.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    SafeTensorsCheckpoint(string directory, SafeTensorsFile[] shards, Dictionary<string, SafeTensorsFile> owners)
    {
        Directory = directory;
        _shards = shards;
        _owners = owners;
        Tensors = owners.Select(o => o.Value.Info(o.Key)).OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Opens <paramref name="directory"/>'s <c>model.safetensors</c> if present (as Hugging Face does),
    /// else the shards its index lists. Throws <see cref="ModelFormatException"/> when neither can be read.
    /// </summary>
    public static SafeTensorsCheckpoint OpenDirectory(string directory)
    {
        var single = System.IO.Path.Combine(directory, SingleFileName);
        if (File.Exists(single))
        {
            var file = SafeTensorsFile.Open(single);
            return new SafeTensorsCheckpoint(directory, [file], file.Tensors.ToDictionary(t => t.Name, _ => file));
        }

        var index = System.IO.Path.Combine(directory, SafeTensorsIndex.FileName);
        if (File.Exists(index)) return OpenSharded(directory, SafeTensorsIndex.ReadWeightMap(index));

        var pickle = File.Exists(System.IO.Path.Combine(directory, "pytorch_model.bin"))
            ? " It has pytorch_model.bin, a pickle checkpoint, which Glassbox never loads; convert it to safetensors."
            : "";
        throw new ModelFormatException($"{directory}: no {SingleFileName} or {SafeTensorsIndex.FileName}.{pickle}");
    }

    static SafeTensorsCheckpoint OpenSharded(string directory, Dictionary<string, string> weightMap)
    {
        var shards = new Dictionary<string, SafeTensorsFile>();
        try
        {
            var owners = new Dictionary<string, SafeTensorsFile>();
            foreach (var (name, shardName) in weightMap)
            {
                if (!shards.TryGetValue(shardName, out var shard))
                {
                    var path = System.IO.Path.Combine(directory, shardName);
                    if (!File.Exists(path))
                        throw new ModelFormatException($"{SafeTensorsIndex.FileName}: shard '{shardName}' (holding '{name}') is missing from {directory}");
                    shards[shardName] = shard = SafeTensorsFile.Open(path);
                }
                if (!shard.Contains(name))
                    throw new ModelFormatException($"{SafeTensorsIndex.FileName}: maps '{name}' to shard '{shardName}', which has no such tensor");
                owners[name] = shard;
            }
            return new SafeTensorsCheckpoint(directory, shards.Values.ToArray(), owners);
        }
        catch
        {
            foreach (var shard in shards.Values) shard.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _owners.ContainsKey(name);

    /// <summary>The header entry for <paramref name="name"/>; unknown names throw, suggesting close ones.</summary>
    public TensorInfo Info(string name) => Owner(name).Info(name);

    /// <summary>Reads <paramref name="name"/> from its shard; see <see cref="SafeTensorsFile.Read"/>.</summary>
    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null) =>
        Owner(name).Read(name, dtype, device);

    SafeTensorsFile Owner(string name) =>
        _owners.TryGetValue(name, out var shard)
            ? shard
            : throw new ModelFormatException($"{Directory}: no tensor '{name}'; {NameSuggestions.Describe(name, _owners.Keys)}");

    torch.Tensor ITensorSource.Read(string name) => Read(name, torch.ScalarType.Float32);

    public void Dispose()
    {
        foreach (var shard in _shards) shard.Dispose();
    }
}
