using Glassbox.Hooks;
using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>
/// LayerNorm <c>(x − mean)/σ · w + b</c> or RMSNorm <c>x/rms · w</c>, written out so that the scale σ
/// (<c>hook_scale</c>, [batch, pos, 1]) can be read or frozen — DLA and every linearisation need it.
/// An identity norm (a block without pre-norms) has no scale hook and passes x through.
/// </summary>
public sealed class Norm
{
    readonly NormKind kind;
    readonly double eps;

    internal Norm(NormKind kind, double eps, Tensor w, Tensor? b, HookPoint? scale, HookPoint normalized)
    {
        this.kind = kind;
        this.eps = eps;
        W = w;
        B = b;
        HookScale = scale;
        HookNormalized = normalized;
    }

    public Tensor W { get; }
    public Tensor? B { get; }
    public NormKind Kind => kind;
    /// <summary>Null for an identity norm.</summary>
    public HookPoint? HookScale { get; }
    public HookPoint HookNormalized { get; }

    public Tensor Forward(Tensor x)
    {
        if (kind == NormKind.Identity) return HookNormalized.Run(x);
        if (kind == NormKind.LayerNorm) x = x - x.mean(new long[] { -1 }, keepdim: true);
        var scale = HookScale!.Run((x.square().mean(new long[] { -1 }, keepdim: true) + eps).sqrt());
        var y = x / scale * W;
        if (B is not null) y = y + B;
        return HookNormalized.Run(y);
    }
}
