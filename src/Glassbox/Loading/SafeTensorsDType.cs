using TorchSharp;

namespace Glassbox.Loading;

/// <summary>
/// The safetensors dtypes Glassbox understands, with their element sizes and torch equivalents.
/// <see cref="Rank"/> follows the reference implementation's dtype order (increasing alignment),
/// which its writer uses to lay tensors out so that each starts aligned to its element size.
/// </summary>
internal sealed record SafeTensorsDType(string Name, int Size, torch.ScalarType ScalarType, int Rank)
{
    static readonly SafeTensorsDType[] All =
    [
        new("BOOL", 1, torch.ScalarType.Bool, 0),
        new("U8", 1, torch.ScalarType.Byte, 1),
        new("I8", 1, torch.ScalarType.Int8, 2),
        new("I16", 2, torch.ScalarType.Int16, 3),
        new("F16", 2, torch.ScalarType.Float16, 4),
        new("BF16", 2, torch.ScalarType.BFloat16, 5),
        new("I32", 4, torch.ScalarType.Int32, 6),
        new("F32", 4, torch.ScalarType.Float32, 7),
        new("F64", 8, torch.ScalarType.Float64, 8),
        new("I64", 8, torch.ScalarType.Int64, 9),
    ];

    public static string KnownNames { get; } = string.Join(", ", All.Select(d => d.Name));

    public static SafeTensorsDType? FromName(string name) => All.FirstOrDefault(d => d.Name == name);

    public static SafeTensorsDType? FromScalarType(torch.ScalarType type) => All.FirstOrDefault(d => d.ScalarType == type);
}
