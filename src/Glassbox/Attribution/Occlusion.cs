using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Attribution;

/// <summary>How occlusion hides a span: a zero token embedding (positions stay aligned), another token, or deletion (later positions shift).</summary>
public enum OcclusionMode { Zero, Replace, Remove }

/// <summary>
/// Occlusion / leave-one-out (Li, Monroe &amp; Jurafsky 2016, arXiv 1612.08220): <c>A_i = T(x) − T(x with i occluded)</c>.
/// With span w and stride s, windows of w tokens starting every s tokens are occluded and each token gets the mean over
/// the windows covering it (0 when none does).
/// The perturbed inputs run batched within the memory budget.
/// </summary>
public sealed class Occlusion : IAttributionMethod
{
    public string Name => "occlusion";
    public string Description => "T(x) − T(x with a span zeroed, replaced or removed) (Li et al. 2016)";
    public bool UsesTarget => true;

    public OcclusionMode Mode { get; init; } = OcclusionMode.Zero;
    /// <summary>The token a span is replaced with (mode Replace).</summary>
    public long? ReplacementToken { get; init; }
    public int Span { get; init; } = 1;
    public int Stride { get; init; } = 1;
    public MemoryBudget Budget { get; init; } = MemoryBudget.Default;

    public StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target)
    {
        int n = context.Length;
        if (Span < 1 || Span > n || (Mode == OcclusionMode.Remove && Span >= n))
            throw new GlassboxException($"Occlusion span {Span} does not fit a {n}-token context{(Mode == OcclusionMode.Remove ? " (removal must leave a token)" : "")}.");
        if (Stride < 1) throw new GlassboxException($"The occlusion stride must be positive, got {Stride}.");
        if (Mode == OcclusionMode.Replace && ReplacementToken is null)
            throw new GlassboxException("Occlusion by replacement needs a replacement token.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var starts = Enumerable.Range(0, n - Span + 1).Where(s => s % Stride == 0).ToArray();
        var baseValue = target.Evaluate(model.Forward(tensor(context, device: model.W_E.device).unsqueeze(0))).to(ScalarType.Float64).item<double>();
        var occluded = Mode == OcclusionMode.Zero ? ZeroedValues(model, context, target, starts) : TokenValues(model, context, target, starts);

        var scores = new double[n];
        var covered = new int[n];
        for (int w = 0; w < starts.Length; w++)
            for (int i = starts[w]; i < starts[w] + Span; i++)
            {
                scores[i] += baseValue - occluded[w];
                covered[i]++;
            }
        for (int i = 0; i < n; i++) scores[i] /= Math.Max(1, covered[i]);
        return new StepAttribution(scores, TargetValue: baseValue);
    }

    /// <summary>The span's token embeddings set to zero, by replacing <c>hook_embed</c>.</summary>
    double[] ZeroedValues(HookedTransformer model, long[] context, AttributionTarget target, int[] starts)
    {
        var e = EmbeddingGradients.Embeddings(model, context);
        var points = e.unsqueeze(0).repeat(starts.Length, 1, 1);
        for (int w = 0; w < starts.Length; w++) points[w, TensorIndex.Slice(starts[w], starts[w] + Span)] = 0;
        return EmbeddingGradients.ValuesAt(model, context, target, points, Budget).to(ScalarType.Float64).cpu().data<double>().ToArray();
    }

    /// <summary>The span replaced by another token or removed: a batch of edited token sequences.</summary>
    double[] TokenValues(HookedTransformer model, long[] context, AttributionTarget target, int[] starts)
    {
        var edited = starts.Select(s => Edit(context, s)).ToArray();
        long length = edited[0].Length, chunk = Budget.BatchSize(model.Config, length, backward: false);
        var values = new List<double>();
        for (int s = 0; s < edited.Length; s += (int)chunk)
        {
            using var step = NewDisposeScope();
            var batch = edited.Skip(s).Take((int)chunk).SelectMany(x => x).ToArray();
            var tokens = tensor(batch, device: model.W_E.device).view(-1, length);
            values.AddRange(target.Evaluate(model.Forward(tokens)).to(ScalarType.Float64).cpu().data<double>().ToArray());
        }
        return values.ToArray();
    }

    /// <summary>The context with the window at <paramref name="start"/> occluded by token (replace) or deleted (remove).</summary>
    public long[] Edit(long[] context, int start) => Mode == OcclusionMode.Remove
        ? [.. context[..start], .. context[(start + Span)..]]
        : context.Select((t, i) => i >= start && i < start + Span ? ReplacementToken!.Value : t).ToArray();
}
