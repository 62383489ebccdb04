using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>
/// The machinery the gradient methods share: token embeddings (<c>hook_embed</c>; positions stay fixed), and the
/// target's value and gradient at a batch of embedding points, run in chunks that fit a memory budget.
/// </summary>
public static class EmbeddingGradients
{
    /// <summary>The token embeddings e [pos, d_model] of <paramref name="tokens"/>, as <c>hook_embed</c> sees them.</summary>
    public static Tensor Embeddings(HookedTransformer model, long[] tokens)
    {
        using var scope = NewDisposeScope();
        return model.W_E.index_select(0, tensor(tokens, device: model.W_E.device)).detach().MoveToOuterDisposeScope();
    }

    /// <summary>T and ∂T/∂e at each point [n, pos, d_model] replacing the token embeddings: (values [n], gradients [n, pos, d_model]).</summary>
    public static (Tensor Values, Tensor Gradients) At(HookedTransformer model, long[] tokens, AttributionTarget target, Tensor points, MemoryBudget budget)
    {
        using var scope = NewDisposeScope();
        var ids = tensor(tokens, device: model.W_E.device).unsqueeze(0);
        long n = points.shape[0], chunk = budget.BatchSize(model.Config, tokens.Length, backward: true);
        var values = new List<Tensor>();
        var grads = new List<Tensor>();
        for (long s = 0; s < n; s += chunk)
        {
            using var step = NewDisposeScope();
            long b = Math.Min(chunk, n - s);
            var leaf = points.narrow(0, s, b).detach().clone().requires_grad_(true);
            using (enable_grad())
            {
                var t = target.Evaluate(model.RunWithHooks(ids.expand(b, -1), ("hook_embed", (_, _) => leaf)));
                t.sum().backward();
                values.Add(t.detach().MoveToOuterDisposeScope());
                grads.Add(leaf.grad!.detach().clone().MoveToOuterDisposeScope());
            }
        }
        return (cat(values, 0).MoveToOuterDisposeScope(), cat(grads, 0).MoveToOuterDisposeScope());
    }

    /// <summary>T without gradients at each embedding point [n, pos, d_model].</summary>
    public static Tensor ValuesAt(HookedTransformer model, long[] tokens, AttributionTarget target, Tensor points, MemoryBudget budget)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(tokens, device: model.W_E.device).unsqueeze(0);
        long n = points.shape[0], chunk = budget.BatchSize(model.Config, tokens.Length, backward: false);
        var values = new List<Tensor>();
        for (long s = 0; s < n; s += chunk)
        {
            long b = Math.Min(chunk, n - s);
            var slice = points.narrow(0, s, b);
            values.Add(target.Evaluate(model.RunWithHooks(ids.expand(b, -1), ("hook_embed", (_, _) => slice))));
        }
        return cat(values, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Per-token sums over d_model, as doubles on the CPU: [pos, d] → [pos].</summary>
    internal static double[] SumPerToken(Tensor x) => x.sum(-1).to(ScalarType.Float64, CPU).data<double>().ToArray();
}

/// <summary>
/// How many sequences a batched method may run at once. The estimate counts the activations a forward pass
/// keeps per sequence (residual-width tensors, attention scores and patterns, MLP activations, logits), doubled
/// when a backward pass needs them; batches never go below one sequence.
/// </summary>
public sealed record MemoryBudget(long Bytes)
{
    public static MemoryBudget Default { get; } = new(1L << 30);

    public static MemoryBudget Megabytes(long mb) => mb > 0 ? new(mb << 20) : throw new GlassboxException($"The memory budget must be positive, got {mb} MB.");

    public long BytesPerSequence(ModelConfig cfg, long pos, bool backward)
    {
        long perLayer = 16L * cfg.DModel + 3L * cfg.NHeads * pos + 4L * cfg.DMlp;
        long elements = pos * (cfg.NLayers * perLayer + 2L * cfg.VocabSize);
        return elements * 4 * (backward ? 2 : 1);
    }

    public long BatchSize(ModelConfig cfg, long pos, bool backward) => Math.Max(1, Bytes / BytesPerSequence(cfg, pos, backward));
}
