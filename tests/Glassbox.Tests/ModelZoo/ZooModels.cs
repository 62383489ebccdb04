using Glassbox.Datasets;
using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Tokenization;

namespace Glassbox.Tests.ModelZoo;

/// <summary>The models committed under <c>models/</c>, loaded once per test class.</summary>
public sealed class ZooModel : IDisposable
{
    public ZooModel(string name)
    {
        Path = System.IO.Path.Combine(SharedModels.RepoRoot, "models", name);
        Model = ModelLoader.Load(Path);
        Tokenizer = ModelLoader.FindTokenizer(Path, Model.Config) ?? throw new InvalidOperationException($"{name} has no tokenizer.json");
    }

    public string Path { get; }
    public HookedTransformer Model { get; }
    public ITokenizer Tokenizer { get; }

    public void Dispose() => Model.Dispose();
}

public sealed class AttnOnly2LFixture() : IDisposable
{
    public ZooModel Zoo { get; } = new("attn-only-2l");
    public InductionDataset Data => new(Zoo.Tokenizer, halfLength: 50);
    /// <summary>The probe batch the model card's numbers were measured on.</summary>
    public long[][] Probe => Data.Generate(32, 12345);
    public void Dispose() => Zoo.Dispose();
}
