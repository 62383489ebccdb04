using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// Rotary position embeddings (Su et al. 2021): rotate element pairs of each query/key head by
/// angle <c>pos · ω_j</c>, <c>ω_j = θ^(−2j/r)</c> for j &lt; r/2, r the rotary dimension. <see cref="RotaryLayout.Pairs"/>
/// pairs elements (2j, 2j+1) (llama2.c); <see cref="RotaryLayout.Halves"/> pairs (j, j + r/2)
/// (Hugging Face Llama, GPT-NeoX). Dimensions past r pass through (partial rotary).
/// <c>rope_scaling</c> rescales ω: linear divides all by the factor; Llama 3 (Meta's Llama 3.1 code) keeps wavelengths
/// below L/high_freq_factor, divides those above L/low_freq_factor by the factor and interpolates between, L the
/// original context.
/// </summary>
public sealed class Rotary : IDisposable
{
    readonly RotaryLayout layout;
    readonly int dim, context;
    readonly Tensor invFreq; // [dim/2], float64 on the CPU
    readonly Device device;
    readonly ScalarType dtype;
    Tensor? cos, sin; // [positions computed so far, dim/2]

    public Rotary(ModelConfig cfg, double theta, RopeScaling? scaling, Device device, ScalarType dtype)
    {
        layout = cfg.RotaryLayout;
        dim = cfg.RotaryDim;
        context = cfg.ContextLength;
        (this.device, this.dtype) = (device, dtype);
        using var scope = NewDisposeScope();
        invFreq = Scaled(pow(theta, -2.0 * arange(0, dim / 2, dtype: float64) / dim), scaling).DetachFromDisposeScope();
    }

    static Tensor Scaled(Tensor invFreq, RopeScaling? s)
    {
        if (s is null) return invFreq;
        if (s.Kind == RopeScalingKind.Linear) return invFreq / s.Factor;
        double lowWavelen = s.OriginalContext / s.LowFreqFactor, highWavelen = s.OriginalContext / s.HighFreqFactor;
        var wavelen = 2 * Math.PI / invFreq;
        var divided = where(wavelen > lowWavelen, invFreq / s.Factor, invFreq);
        var smooth = (s.OriginalContext / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        var interpolated = (1 - smooth) * divided / s.Factor + smooth * divided;
        var medium = (wavelen >= highWavelen).logical_and(wavelen <= lowWavelen);
        return where(medium, interpolated, divided);
    }

    /// <summary>Rotates x [batch, pos, heads, d_head] whose first position is <paramref name="start"/>.</summary>
    public Tensor Apply(Tensor x, long start)
    {
        long p = x.shape[1], dHead = x.shape[3];
        var (c, s) = Tables(start, p);
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

    /// <summary>
    /// cos and sin of positions start .. start + p, [1, p, 1, dim/2]. The tables grow on demand (doubling, up to the
    /// context), so a 128k-context model does not hold 128k rows for short prompts.
    /// </summary>
    (Tensor Cos, Tensor Sin) Tables(long start, long p)
    {
        lock (invFreq)
        {
            if (cos is null || cos.shape[0] < start + p)
            {
                long n = Math.Min(context, Math.Max(start + p, Math.Max(256, 2 * (cos?.shape[0] ?? 0))));
                using var scope = NewDisposeScope();
                var angles = outer(arange(0, n, dtype: float64), invFreq);
                cos?.Dispose();
                sin?.Dispose();
                cos = angles.cos().to(dtype, device).DetachFromDisposeScope();
                sin = angles.sin().to(dtype, device).DetachFromDisposeScope();
            }
            return (cos.narrow(0, start, p).view(1, p, 1, dim / 2), sin!.narrow(0, start, p).view(1, p, 1, dim / 2));
        }
    }

    public void Dispose()
    {
        invFreq.Dispose();
        cos?.Dispose();
        sin?.Dispose();
    }
}
