using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Rotary position embeddings (Su et al. 2021): rotate element pairs of each query/key head by
/// angle <c>pos · θ^(−2j/r)</c> for j &lt; r/2, r the rotary dimension. <see cref="RotaryLayout.Pairs"/>
/// pairs elements (2j, 2j+1) (llama2.c); <see cref="RotaryLayout.Halves"/> pairs (j, j + r/2)
/// (Hugging Face Llama, GPT-NeoX). Dimensions past r pass through (partial rotary).
/// </summary>
public sealed class Rotary : IDisposable
{
    readonly RotaryLayout layout;
    readonly int dim;
    readonly Tensor cos, sin; // [context, dim/2]

    public Rotary(ModelConfig cfg, Device device, ScalarType dtype)
    {
        layout = cfg.RotaryLayout;
        dim = cfg.RotaryDim;
        using var scope = NewDisposeScope();
        var j = arange(0, dim / 2, dtype: float64);
        var invFreq = pow(cfg.RotaryTheta, -2.0 * j / dim);
        var angles = outer(arange(0, cfg.ContextLength, dtype: float64), invFreq);
        cos = angles.cos().to(dtype, device).DetachFromDisposeScope();
        sin = angles.sin().to(dtype, device).DetachFromDisposeScope();
    }

    /// <summary>Rotates x [batch, pos, heads, d_head] whose first position is <paramref name="start"/>.</summary>
    public Tensor Apply(Tensor x, long start)
    {
        long p = x.shape[1], dHead = x.shape[3];
        var c = cos.narrow(0, start, p).view(1, p, 1, dim / 2);
        var s = sin.narrow(0, start, p).view(1, p, 1, dim / 2);
        var rot = dim == dHead ? x : x.narrow(3, 0, dim);
        Tensor rotated;
        if (layout == RotaryLayout.Halves)
        {
            var x1 = rot.narrow(3, 0, dim / 2);
            var x2 = rot.narrow(3, dim / 2, dim / 2);
            rotated = cat(new[] { x1 * c - x2 * s, x2 * c + x1 * s }, 3);
        }
        else
        {
            var pairs = rot.reshape(x.shape[0], p, x.shape[2], dim / 2, 2);
            var x1 = pairs.select(4, 0);
            var x2 = pairs.select(4, 1);
            rotated = stack(new[] { x1 * c - x2 * s, x1 * s + x2 * c }, 4).flatten(3);
        }
        return dim == dHead ? rotated : cat(new[] { rotated, x.narrow(3, dim, dHead - dim) }, 3);
    }

    public void Dispose()
    {
        cos.Dispose();
        sin.Dispose();
    }
}
