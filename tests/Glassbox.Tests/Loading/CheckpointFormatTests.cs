using System.Text.Json.Nodes;
using Glassbox.Loading;
using Glassbox.Tests.Reference;
using TorchSharp;

namespace Glassbox.Tests.Loading;

/// <summary>
/// Whole models from sharded safetensors (model.safetensors.index.json) and from bf16 / f16 weights: the same model as
/// one float32 file holding the same values.
/// </summary>
public class CheckpointFormatTests
{
    static readonly long[] Tokens = [3, 17, 42, 5, 9, 30, 1, 12];

    static torch.Tensor Logits(string dir)
    {
        using var model = ModelLoader.Load(dir);
        using var tokens = torch.tensor(Tokens);
        return model.Forward(tokens);
    }

    /// <summary>The tensors of <paramref name="dir"/>'s model.safetensors through <paramref name="map"/>, in one dispose scope the caller owns.</summary>
    static List<KeyValuePair<string, torch.Tensor>> ReadAll(string dir, Func<torch.Tensor, torch.Tensor> map)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
        return file.Tensors.Select(t => new KeyValuePair<string, torch.Tensor>(t.Name, map(file.Read(t.Name)))).ToList();
    }

    /// <summary>A copy of <paramref name="dir"/>'s config with <paramref name="tensors"/> as its only weights file.</summary>
    static string WithTensors(string dir, TempDirectory into, List<KeyValuePair<string, torch.Tensor>> tensors)
    {
        File.Copy(Path.Combine(dir, "config.json"), into.File("config.json"));
        SafeTensorsWriter.Write(into.File(SafeTensorsCheckpoint.SingleFileName), tensors);
        return into.Path;
    }

    [Theory]
    [MemberData(nameof(TinyCheckpoints.Names), MemberType = typeof(TinyCheckpoints))]
    public void ShardedCheckpointLoadsAsTheSingleFile(string name)
    {
        using var single = new TempDirectory();
        using var sharded = new TempDirectory();
        TinyCheckpoints.ByName(name).WriteTo(single.Path);
        using var scope = torch.NewDisposeScope();
        var tensors = ReadAll(single.Path, t => t);
        // Three shards, tensors dealt round-robin so every layer spans shards.
        var map = new JsonObject();
        for (int s = 0; s < 3; s++)
        {
            var shard = $"model-{s + 1:D5}-of-00003.safetensors";
            var part = tensors.Where((_, i) => i % 3 == s).ToList();
            SafeTensorsWriter.Write(sharded.File(shard), part);
            foreach (var (n, _) in part) map[n] = shard;
        }
        File.WriteAllText(sharded.File("model.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map }.ToJsonString());
        File.Copy(single.File("config.json"), sharded.File("config.json"));
        Assert.False(File.Exists(sharded.File(SafeTensorsCheckpoint.SingleFileName)));

        TensorAssert.BitEqual(Logits(single.Path), Logits(sharded.Path));
    }

    [Theory]
    [MemberData(nameof(HalfCases))]
    public void HalfPrecisionWeightsLoadAsTheirFloat32Values(string name, string dtype)
    {
        var half = dtype == "BF16" ? torch.bfloat16 : torch.float16;
        using var original = new TempDirectory();
        using var stored = new TempDirectory();
        using var widened = new TempDirectory();
        TinyCheckpoints.ByName(name).WriteTo(original.Path);
        using var scope = torch.NewDisposeScope();
        WithTensors(original.Path, stored, ReadAll(original.Path, t => t.to(half)));
        WithTensors(original.Path, widened, ReadAll(original.Path, t => t.to(half).to(torch.float32)));
        using (var file = SafeTensorsFile.Open(stored.File(SafeTensorsCheckpoint.SingleFileName)))
            Assert.All(file.Tensors, t => Assert.Equal(dtype, t.DType));

        // Same logits bit for bit, hence the same log-probabilities.
        var fromHalf = Logits(stored.Path);
        TensorAssert.BitEqual(Logits(widened.Path), fromHalf);
        // The rounding is real: the half-precision model is not the float32 one (so the equality above is not vacuous).
        Assert.True((fromHalf - Logits(original.Path)).abs().max().item<float>() > 1e-4f);
    }

    public static TheoryData<string, string> HalfCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in TinyCheckpoints.AllNames)
            foreach (var dtype in new[] { "BF16", "F16" }) data.Add(name, dtype);
        return data;
    }
}
