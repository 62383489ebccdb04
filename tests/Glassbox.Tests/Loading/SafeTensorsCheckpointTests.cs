using Glassbox.Loading;
using TorchSharp;

namespace Glassbox.Tests.Loading;

public class SafeTensorsCheckpointTests
{
    const string Index = """
        {"metadata":{"total_size":40},"weight_map":{"embed.weight":"model-00001-of-00002.safetensors","head.weight":"model-00002-of-00002.safetensors","head.bias":"model-00002-of-00002.safetensors"}}
        """;

    static void WriteShards(TempDirectory dir, torch.Tensor embed, torch.Tensor weight, torch.Tensor bias)
    {
        SafeTensorsWriter.Write(dir.File("model-00001-of-00002.safetensors"), [new("embed.weight", embed)]);
        SafeTensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"), [new("head.weight", weight), new("head.bias", bias)]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), Index);
    }

    [Fact]
    public void SingleFileDirectoryIsOpened()
    {
        using var dir = new TempDirectory();
        using var w = torch.ones(2, 2);
        SafeTensorsWriter.Write(dir.File("model.safetensors"), [new("w", w)]);
        using var checkpoint = SafeTensorsCheckpoint.OpenDirectory(dir.Path);
        Assert.Equal(["w"], checkpoint.Tensors.Select(t => t.Name));
        using var read = checkpoint.Read("w");
        TensorAssert.BitEqual(w, read);
    }

    [Fact]
    public void ShardedDirectoryReadsAcrossShards()
    {
        using var dir = new TempDirectory();
        using var embed = torch.randn(3, 2);
        using var weight = torch.randn(2, 3, dtype: torch.bfloat16);
        using var bias = torch.randn(3);
        WriteShards(dir, embed, weight, bias);

        using var checkpoint = SafeTensorsCheckpoint.OpenDirectory(dir.Path);
        Assert.Equal(["embed.weight", "head.bias", "head.weight"], checkpoint.Tensors.Select(t => t.Name));
        Assert.True(checkpoint.Contains("head.bias"));
        Assert.Equal("BF16", checkpoint.Info("head.weight").DType);
        using var readEmbed = checkpoint.Read("embed.weight");
        using var readWeight = checkpoint.Read("head.weight");
        TensorAssert.BitEqual(embed, readEmbed);
        TensorAssert.BitEqual(weight, readWeight);
        var message = Assert.Throws<ModelFormatException>(() => checkpoint.Read("head.wieght")).Message;
        Assert.Contains("no tensor 'head.wieght'; did you mean 'head.weight'", message);
    }

    [Fact]
    public void MissingShardIsNamed()
    {
        using var dir = new TempDirectory();
        using var t = torch.zeros(2);
        WriteShards(dir, t, t, t);
        File.Delete(dir.File("model-00002-of-00002.safetensors"));
        var message = Assert.Throws<ModelFormatException>(() => SafeTensorsCheckpoint.OpenDirectory(dir.Path)).Message;
        Assert.Contains("shard 'model-00002-of-00002.safetensors'", message);
        Assert.Contains("is missing from", message);
    }

    [Fact]
    public void IndexEntryAbsentFromItsShardIsNamed()
    {
        using var dir = new TempDirectory();
        using var t = torch.zeros(2);
        WriteShards(dir, t, t, t);
        SafeTensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"), [new("head.weight", t)]);
        var message = Assert.Throws<ModelFormatException>(() => SafeTensorsCheckpoint.OpenDirectory(dir.Path)).Message;
        Assert.Contains("maps 'head.bias' to shard 'model-00002-of-00002.safetensors', which has no such tensor", message);
    }

    [Fact]
    public void ShardOutsideTheDirectoryIsRefused()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map":{"w":"../elsewhere.safetensors"}}""");
        var message = Assert.Throws<ModelFormatException>(() => SafeTensorsCheckpoint.OpenDirectory(dir.Path)).Message;
        Assert.Contains("expected a shard file name in the same directory", message);
    }

    [Fact]
    public void PickleOnlyDirectoryIsRefused()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("pytorch_model.bin"), [0x80, 2]);
        var message = Assert.Throws<ModelFormatException>(() => SafeTensorsCheckpoint.OpenDirectory(dir.Path)).Message;
        Assert.Contains("no model.safetensors or model.safetensors.index.json", message);
        Assert.Contains("pickle", message);
    }
}
