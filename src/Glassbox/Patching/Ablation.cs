using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>
/// Ablations as hooks (an intervention is just code run at a hook): remove one head's contribution by
/// replacing its <c>hook_z</c> slice with zero or with its mean over a reference set. Compose them freely
/// with <see cref="HookedTransformer.RunWithHooks"/> and the task metrics.
/// </summary>
public static class Ablation
{
    public static (string Names, HookFn Fn) ZeroHead(int layer, int head) =>
        (HookNames.Full("z", layer), (z, _) =>
        {
            var y = z.clone();
            y[.., .., head] = 0;
            return y;
        });

    /// <summary>Mean ablation: the head's z at every position is replaced by its mean over the reference batch and positions.</summary>
    public static (string Names, HookFn Fn) MeanHead(HookedTransformer model, Tensor referenceTokens, int layer, int head)
    {
        var (_, cache) = model.RunWithCache(referenceTokens, HookNames.Full("z", layer));
        Tensor mean;
        using (cache) mean = cache["z", layer][.., .., head].mean(new long[] { 0, 1 }).DetachFromDisposeScope(); // [d_head]
        return (HookNames.Full("z", layer), (z, _) =>
        {
            var y = z.clone();
            y[.., .., head] = mean;
            return y;
        });
    }
}
