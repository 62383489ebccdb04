namespace Glassbox.Tests.Reference;

/// <summary>
/// A tiny random checkpoint in exact Hugging Face layout: the config.json contents and the tensors of
/// model.safetensors, named and shaped as transformers saves them.
/// </summary>
/// <param name="Name">The variant's name in <see cref="TinyCheckpoints.Names"/>, e.g. "qwen2-tied".</param>
/// <param name="ModelType">The config's model_type: "gpt2", "llama", "qwen2" or "gpt_neox".</param>
public sealed record TinyCheckpoint(
    string Name,
    string ModelType,
    Dictionary<string, object?> Config,
    Dictionary<string, (float[] Data, int[] Shape)> Tensors)
{
    public int VocabSize => HfConfig.Int(Config, "vocab_size");

    /// <summary>The longest input: n_positions (GPT-2) or max_position_embeddings.</summary>
    public int ContextLength => HfConfig.Int(Config, ModelType == "gpt2" ? "n_positions" : "max_position_embeddings");

    /// <summary>Writes config.json and model.safetensors into <paramref name="directory"/>; returns it.</summary>
    public string WriteTo(string directory) => HfCheckpointWriter.Write(directory, Config, Tensors);

    /// <summary>The reference log-probabilities [position, token] of <paramref name="tokens"/>.</summary>
    public double[,] LogProbs(int[] tokens) => ReferenceForward.LogProbs(this, tokens);

    public override string ToString() => Name;
}
