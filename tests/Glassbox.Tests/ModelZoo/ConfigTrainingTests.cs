using Glassbox.Loading;
using Glassbox.Models;
using Glassbox.Training;

namespace Glassbox.Tests.ModelZoo;

public class ConfigTrainingTests
{
    const string Gpt2 = """{ "architecture": "gpt2", "n_layers": 1, "d_model": 32, "n_heads": 2, "d_mlp": 64, "context_length": 16 }""";

    static string Write(TempDirectory dir, string model, string data = """{ "text": "corpus.txt", "max_vocab": 50 }""",
        string training = """ "steps": 40, "batch_size": 8, "learning_rate": 0.01, "warmup_steps": 5, "eval_every": 10 """)
    {
        // Four sentences in random order: next-token entropy is low within a sentence, so a model that learns shows it.
        var sentences = new[] { "the cat sat on the mat .", "a dog ran to the house .", "the dog sat on a mat .", "a cat ran to a house ." };
        var random = new Random(1);
        File.WriteAllLines(dir.File("corpus.txt"), Enumerable.Range(0, 400).Select(_ => sentences[random.Next(sentences.Length)]));
        File.WriteAllText(dir.File("train.json"), $$"""
            { "seed": 1, "model": {{model}}, "data": {{data}},
              "training": { {{training}} } }
            """);
        return dir.File("train.json");
    }

    [Theory]
    [InlineData("""{ "architecture": "gpt2", "n_layers": 1, "d_model": 32, "n_heads": 2, "d_mlp": 64, "context_length": 16 }""")]
    [InlineData("""{ "architecture": "llama", "n_layers": 1, "d_model": 32, "n_heads": 4, "n_kv_heads": 2, "d_mlp": 48, "context_length": 16, "norm": "rms_norm", "positional": "rotary", "act": "silu", "gated_mlp": true }""")]
    public void AnyArchitectureTrainsFromAConfigAndSavesInHfLayout(string model)
    {
        using var dir = new TempDirectory();
        var spec = ConfigTraining.Load(Write(dir, model));
        var (trained, result) = ConfigTraining.Train(spec);
        using (trained)
        {
            Assert.True(result.FinalEvalLoss < 1.2, $"eval loss {result.FinalEvalLoss} (uniform: {Math.Log(spec.Model.VocabSize):F2})");
            ModelSaver.Save(trained, dir.Combine("out"), spec.Tokenizer);
            using var loaded = ModelLoader.Load(dir.Combine("out"));
            Assert.Equal(spec.Model.NLayers, loaded.Config.NLayers);
            Assert.NotNull(ModelLoader.FindTokenizer(dir.Combine("out"), loaded.Config));
        }
    }

    [Theory]
    [InlineData(""" "steps": 10, "batch_size": 0 """, """{ "text": "corpus.txt" }""", "batch_size must be at least 1, got 0")]
    [InlineData(""" "steps": 10, "learning_rate": -1 """, """{ "text": "corpus.txt" }""", "learning_rate must be a positive number, got -1")]
    [InlineData(""" "steps": 10, "eval_every": 0 """, """{ "text": "corpus.txt" }""", "eval_every must be at least 1, got 0")]
    [InlineData(""" "steps": 0 """, """{ "text": "corpus.txt" }""", "steps must be at least 1, got 0")]
    [InlineData(""" "steps": 10 """, """{ "text": "corpus.txt", "max_vocab": 1 }""", "max_vocab must be at least 4")]
    public void SettingsThatCannotTrainAreClearErrors(string training, string data, string expected)
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<GlassboxException>(() => ConfigTraining.Load(Write(dir, Gpt2, data, training)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MissingModelFieldIsAClearError()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<GlassboxException>(() => ConfigTraining.Load(Write(dir, """{ "architecture": "gpt2", "n_layers": 1, "d_model": 32, "d_mlp": 64, "context_length": 16 }""")));
        Assert.Contains("n_heads", e.Message);
    }

    [Fact]
    public void UnknownFieldIsAClearError()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<GlassboxException>(() => ConfigTraining.Load(Write(dir, """{ "architecture": "gpt2", "n_layers": 1, "d_model": 32, "n_heads": 2, "d_mlp": 64, "context_length": 16, "n_layer": 3 }""")));
        Assert.Contains("n_layer", e.Message);
    }
}
