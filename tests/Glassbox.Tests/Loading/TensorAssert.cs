using TorchSharp;

namespace Glassbox.Tests.Loading;

public static class TensorAssert
{
    /// <summary>Same dtype, shape and bytes: a stricter test than value equality (NaN payloads, -0.0).</summary>
    public static void BitEqual(torch.Tensor expected, torch.Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.contiguous();
        using var a = actual.contiguous();
        Assert.Equal(e.bytes.ToArray(), a.bytes.ToArray());
    }
}
