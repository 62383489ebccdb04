using static TorchSharp.torch;

namespace Glassbox.Hooks;

public static class TensorExtensions
{
    /// <summary>
    /// A detached copy that outlives the forward pass: a hook runs inside the model's dispose scope, so a
    /// tensor it wants to keep must move to the caller's scope (or be unowned when there is none).
    /// </summary>
    public static Tensor Keep(this Tensor activation) => activation.detach().clone().MoveToOuterDisposeScope();
}
