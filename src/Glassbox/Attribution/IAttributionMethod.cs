using Glassbox.Models;

namespace Glassbox.Attribution;

/// <summary>
/// An input-attribution method: scores every token of <c>context</c> for a target read at its last position.
/// Implementations are stateless apart from their hyper-parameters, so one instance serves every step.
/// </summary>
public interface IAttributionMethod
{
    string Name { get; }
    string Description { get; }

    /// <summary>Whether the scores depend on the target (gradient and perturbation methods, ALTI-Logit) or only on the context (context mixing).</summary>
    bool UsesTarget { get; }

    StepAttribution Attribute(HookedTransformer model, long[] context, AttributionTarget target);
}

/// <summary>
/// One target's scores over the sources <c>0..t</c>. <see cref="PerLayer"/> is [layer, source] where the method has
/// layers (attention, rollouts, ALTI); <see cref="CompletenessError"/> is integrated gradients' δ.
/// </summary>
public sealed record StepAttribution(double[] Scores, double[,]? PerLayer = null, double? CompletenessError = null, double? TargetValue = null);
