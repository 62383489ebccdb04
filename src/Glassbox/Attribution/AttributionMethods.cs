namespace Glassbox.Attribution;

/// <summary>The hyper-parameters a method may take from the command line; each method reads the ones it has.</summary>
public sealed record AttributionOptions
{
    public int Steps { get; init; } = 50;
    public IntegrationRule Rule { get; init; } = IntegrationRule.GradedGaussLegendre;
    public long? BaselineToken { get; init; }
    public int Samples { get; init; } = 50;
    public double NoiseLevel { get; init; } = 0.15;
    public ulong Seed { get; init; }
    public int Span { get; init; } = 1;
    public int Stride { get; init; } = 1;
    public OcclusionMode Occlusion { get; init; } = OcclusionMode.Zero;
    public long? ReplacementToken { get; init; }
    public int? Layer { get; init; }
    public int? Head { get; init; }
    public MemoryBudget Budget { get; init; } = MemoryBudget.Default;
}

/// <summary>Every attribution method by name, as Inseq's registry: <c>Create("alti")</c>, and a list for <c>--method list</c>.</summary>
public static class AttributionMethods
{
    static readonly Dictionary<string, Func<AttributionOptions, IAttributionMethod>> factories = new()
    {
        ["saliency"] = _ => new Saliency(),
        ["input_x_gradient"] = _ => new InputXGradient(),
        ["integrated_gradients"] = o => new IntegratedGradients { Steps = o.Steps, Rule = o.Rule, BaselineToken = o.BaselineToken, Budget = o.Budget },
        ["smoothgrad"] = o => new SmoothGrad { Samples = o.Samples, NoiseLevel = o.NoiseLevel, Seed = o.Seed, Budget = o.Budget },
        ["occlusion"] = o => new Occlusion { Mode = o.Occlusion, ReplacementToken = o.ReplacementToken, Span = o.Span, Stride = o.Stride, Budget = o.Budget },
        ["attention"] = o => new RawAttention { Layer = o.Layer, Head = o.Head },
        ["rollout"] = _ => new AttentionRollout(),
        ["attention_flow"] = _ => new AttentionFlow(),
        ["norm"] = _ => new NormBased(),
        ["norm_residual"] = _ => new NormBased { Residual = true },
        ["globenc"] = _ => new GlobEnc(),
        ["alti"] = _ => new Alti(),
        ["alti_logit"] = _ => new AltiLogit(),
        ["alti_logit_full"] = _ => new AltiLogit { IncludeMlpAndEmbedding = true },
        ["value_zeroing"] = o => new ValueZeroing { Budget = o.Budget },
    };

    public static IReadOnlyCollection<string> Names => factories.Keys;

    public static IAttributionMethod Create(string name, AttributionOptions? options = null) =>
        factories.TryGetValue(name, out var factory)
            ? factory(options ?? new AttributionOptions())
            : throw new GlassboxException($"Unknown attribution method '{name}'; {NameSuggestions.Describe(name, Names)} Valid methods: {string.Join(", ", Names)}.");

    /// <summary>One line per method: name and description.</summary>
    public static string Describe() =>
        string.Join("\n", Names.Select(n => $"{n,-22} {Create(n).Description}")) + "\n";
}
