using System.Text.Json.Nodes;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Loading.Adapters;

/// <summary>The inverse of an adapter: writes a model back in its family's exact Hugging Face layout.</summary>
public interface IArchitectureExporter
{
    /// <summary>The model_type written to config.json.</summary>
    string ExportModelType(ModelConfig cfg);

    JsonObject ExportConfig(ModelConfig cfg);

    /// <summary>Checkpoint tensors by Hugging Face name (float32, CPU). Absent biases the family requires are written as zeros.</summary>
    IEnumerable<KeyValuePair<string, Tensor>> ExportTensors(ModelConfig cfg, StateDict sd);
}
