using System.Text.Json.Nodes;
using Glassbox.Loading;
using Glassbox.Tests.Reference;

namespace Glassbox.Tests.Loading;

public class ModelLoaderErrorTests
{
    static string WriteGpt2(TempDirectory dir, Action<JsonObject> edit)
    {
        var checkpoint = TinyCheckpoints.Gpt2();
        checkpoint.WriteTo(dir.Path);
        var configPath = Path.Combine(dir.Path, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        edit(json);
        File.WriteAllText(configPath, json.ToJsonString());
        return dir.Path;
    }

    [Fact]
    public void ConfigMissingAFieldNamesIt()
    {
        using var dir = new TempDirectory();
        var path = WriteGpt2(dir, j => j.Remove("n_head"));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(path));
        Assert.Contains("missing the required field 'n_head'", e.Message);
        Assert.Contains("gpt2", e.Message);
    }

    [Fact]
    public void UnknownModelTypeListsTheSupportedOnes()
    {
        using var dir = new TempDirectory();
        var path = WriteGpt2(dir, j => j["model_type"] = "mamba");
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(path));
        Assert.Contains("Unknown model_type 'mamba'", e.Message);
        Assert.Contains("gpt_neox", e.Message);
    }

    [Fact]
    public void ConfigThatContradictsTheWeightsIsAnError()
    {
        using var dir = new TempDirectory();
        var path = WriteGpt2(dir, j => j["n_embd"] = 48);
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelLoader.Load(path));
        Assert.Contains("shape", e.Message);
    }

    [Fact]
    public void ConfigThatIsNotJsonIsAnError()
    {
        using var dir = new TempDirectory();
        TinyCheckpoints.Gpt2().WriteTo(dir.Path);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), "{ not json");
        Assert.Contains("not valid JSON", Assert.Throws<ModelFormatException>(() => ModelLoader.Load(dir.Path)).Message);
    }

    [Fact]
    public void PickleCheckpointsAreRefused()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "pytorch_model.bin");
        File.WriteAllBytes(path, new byte[] { 0x80, 0x02 });
        Assert.Contains("pickle", Assert.Throws<ModelFormatException>(() => ModelLoader.Load(path)).Message);
    }

    [Fact]
    public void TruncatedLlama2cCheckpointIsAnError()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "model.bin");
        using (var w = new BinaryWriter(File.Create(path)))
        {
            foreach (var v in new[] { 64, 172, 5, 8, 4, 512, 512 }) w.Write(v);
            w.Write(new byte[1000]);
        }
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(path));
        Assert.Contains("truncated llama2.c checkpoint", e.Message);
    }
}
