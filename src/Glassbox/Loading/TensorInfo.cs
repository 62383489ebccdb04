namespace Glassbox.Loading;

/// <summary>
/// One tensor as a safetensors header describes it: its safetensors dtype name (e.g. "BF16"), its shape,
/// and its byte span [<see cref="Begin"/>, <see cref="End"/>) relative to the start of the data section.
/// Listing these costs nothing, so adapters can inspect shapes before reading any weights.
/// </summary>
public sealed record TensorInfo(string Name, string DType, long[] Shape, long Begin, long End);
