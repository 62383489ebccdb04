using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using TorchSharp;

namespace Glassbox.Loading;

/// <summary>
/// A read-only, memory-mapped safetensors file. The header is validated in full by <see cref="Open"/>, so
/// listing is free and <see cref="Read"/> copies only the bytes of the tensor asked for. Pickle checkpoints
/// are never read: unpickling runs arbitrary code.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>The reference implementation's limit; a larger claim is corruption, not a header.</summary>
    const long MaxHeaderBytes = 100_000_000;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly Dictionary<string, TensorInfo> _byName;
    byte* _data;

    public string Path { get; }
    public IReadOnlyList<TensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path, MemoryMappedFile map, long dataStart, TensorInfo[] tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name);
        _map = map;
        _view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        _data = start + _view.PointerOffset + dataStart;
    }

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="ModelFormatException"/> naming the problem.</summary>
    public static SafeTensorsFile Open(string path)
    {
        string file = System.IO.Path.GetFileName(path);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot open ({e.Message})", e);
        }

        try
        {
            long length = stream.Length;
            if (length < 8)
                throw new ModelFormatException($"{file}: only {length} bytes, too short for the 8-byte header length; the file is truncated");
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > MaxHeaderBytes)
                throw new ModelFormatException($"{file}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit; {NotSafetensors(prefix)}");
            if ((long)headerLength > length - 8)
                throw new ModelFormatException($"{file}: header length {headerLength} runs past the end of the file ({length} bytes); the file is truncated or not safetensors");

            var json = new byte[headerLength];
            stream.ReadExactly(json);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = SafeTensorsHeader.Parse(json, length - dataStart, file);
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try { return new SafeTensorsFile(path, map, dataStart, tensors, metadata); }
            catch { map.Dispose(); throw; }
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Zip-based (torch.save) and raw pickles both land here, as their magic reads as a huge length.</summary>
    static string NotSafetensors(ReadOnlySpan<byte> prefix) =>
        prefix[0] == (byte)'P' && prefix[1] == (byte)'K' || prefix[0] == 0x80
            ? "this looks like a PyTorch pickle checkpoint, which Glassbox never loads (convert it to safetensors)"
            : "not a safetensors file";

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry for <paramref name="name"/>; unknown names throw, suggesting close ones.</summary>
    public TensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var info)
            ? info
            : throw new ModelFormatException($"{System.IO.Path.GetFileName(Path)}: no tensor '{name}'; {NameSuggestions.Describe(name, _byName.Keys)}");

    /// <summary>
    /// Copies tensor <paramref name="name"/> into a new CPU tensor of the file's dtype, then converts it to
    /// <paramref name="dtype"/> and moves it to <paramref name="device"/> if asked. The caller owns the result.
    /// </summary>
    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        var info = Info(name);
        var stored = SafeTensorsDType.FromName(info.DType)!.ScalarType;
        var tensor = torch.empty(info.Shape, stored);
        try { TensorBytes.CopyFrom(tensor, (IntPtr)(_data + info.Begin)); }
        catch { tensor.Dispose(); throw; }

        var targetType = dtype ?? stored;
        bool onCpu = device == null || device.type == DeviceType.CPU;
        if (targetType == stored && onCpu) return tensor;
        using (tensor) return tensor.to(targetType, device ?? torch.CPU);
    }

    public void Dispose()
    {
        if (_data == null) return;
        _data = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
