using System.Buffers.Binary;
using System.Text;

namespace Glassbox.Tests.Loading;

/// <summary>A fresh directory under the system temp folder, deleted on dispose, with helpers to hand-build files.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Root { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "glassbox-" + Guid.NewGuid().ToString("N"))).FullName;

    public string File(string name) => Path.Combine(Root, name);

    /// <summary>Writes a safetensors file from a literal header (unpadded) and <paramref name="dataBytes"/> zero bytes of data.</summary>
    public string WriteRaw(string name, string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return WriteBytes(name, bytes);
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
