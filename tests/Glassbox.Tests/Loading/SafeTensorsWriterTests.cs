using System.Buffers.Binary;
using System.Text;
using Glassbox.Loading;
using TorchSharp;

namespace Glassbox.Tests.Loading;

public class SafeTensorsWriterTests
{
    static Dictionary<string, torch.Tensor> RandomTensors()
    {
        torch.manual_seed(7);
        return new()
        {
            ["f32"] = torch.randn(3, 5),
            ["f16"] = torch.randn(4, 2, dtype: torch.float16),
            ["bf16"] = torch.randn(7, dtype: torch.bfloat16),
            ["f64"] = torch.randn(2, 3, dtype: torch.float64),
            ["i64"] = torch.randint(long.MinValue, long.MaxValue, [6], dtype: torch.int64),
            ["i32"] = torch.randint(int.MinValue, int.MaxValue, [2, 2], dtype: torch.int32),
            ["i16"] = torch.randint(short.MinValue, short.MaxValue, [3], dtype: torch.int16),
            ["i8"] = torch.randint(-128, 127, [5], dtype: torch.int8),
            ["u8"] = torch.randint(0, 255, [5], dtype: torch.uint8),
            ["bool"] = torch.rand(9) > 0.5,
            ["scalar"] = torch.tensor(1.5f),
            ["empty"] = torch.zeros(0, 4),
        };
    }

    static void DisposeAll(Dictionary<string, torch.Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void RoundTripIsBitExactForEveryDtype()
    {
        using var dir = new TempDirectory();
        var tensors = RandomTensors();
        try
        {
            var path = dir.File("model.safetensors");
            SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode <ok>" });
            using var file = SafeTensorsFile.Open(path);
            Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name));
            Assert.Equal("ünïcode <ok>", file.Metadata["note"]);
            foreach (var (name, expected) in tensors)
            {
                using var actual = file.Read(name);
                TensorAssert.BitEqual(expected, actual);
            }
        }
        finally { DisposeAll(tensors); }
    }

    [Fact]
    public void LayoutMatchesTheReferenceWriter()
    {
        using var dir = new TempDirectory();
        using var b = torch.tensor(new[] { 1f });
        using var a = torch.tensor(new[] { 2L });
        using var c = torch.tensor(new[] { 3f });
        var path = dir.File("x.safetensors");
        SafeTensorsWriter.Write(path, [new("c", c), new("b", b), new("a", a)]);

        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 16, bytes.Length);
        const string expected = """{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"c":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""";
        Assert.Equal(expected.PadRight(headerLength), Encoding.UTF8.GetString(bytes, 8, headerLength));
    }

    [Fact]
    public void NonContiguousInputIsWrittenInLogicalOrder()
    {
        using var dir = new TempDirectory();
        using var source = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var transposed = source.t();
        var path = dir.File("t.safetensors");
        SafeTensorsWriter.Write(path, [new("t", transposed)]);
        using var file = SafeTensorsFile.Open(path);
        using var read = file.Read("t");
        TensorAssert.BitEqual(transposed, read);
    }

    [Fact]
    public void ReadConvertsDtypeOnRequest()
    {
        using var dir = new TempDirectory();
        using var half = torch.tensor(new[] { 0.5f, -2f, 1024f }).to(torch.float16);
        var path = dir.File("h.safetensors");
        SafeTensorsWriter.Write(path, [new("h", half)]);
        using var file = SafeTensorsFile.Open(path);
        using var read = file.Read("h", torch.float32, torch.CPU);
        Assert.Equal(torch.float32, read.dtype);
        Assert.Equal([0.5f, -2f, 1024f], read.data<float>().ToArray());
    }

    [Fact]
    public void RepeatedNameIsRefused()
    {
        using var dir = new TempDirectory();
        using var t = torch.zeros(1);
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(dir.File("r.safetensors"), [new("x", t), new("x", t)]));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
