namespace Glassbox.Sae;

/// <summary>The SAE activation functions (SAELens's <c>architecture</c> names).</summary>
public enum SaeArchitecture { Standard, TopK, BatchTopK, JumpRelu, Gated }

/// <summary>
/// What an SAE reads and how it is shaped, as SAELens's <c>cfg.json</c> records it. A transcoder is any
/// architecture with a <see cref="TargetHookName"/>: it encodes the activation at <see cref="HookName"/> and
/// reconstructs the one at the target hook (Dunefsky et al. 2024, e.g. <c>ln2.hook_normalized</c> → <c>hook_mlp_out</c>).
/// </summary>
public sealed record SaeConfig
{
    public SaeArchitecture Architecture { get; init; } = SaeArchitecture.TopK;
    public int DIn { get; init; }
    public int DSae { get; init; }
    /// <summary>Latents kept per token (TopK) or on average per token (BatchTopK).</summary>
    public int K { get; init; } = 16;
    /// <summary>JumpReLU's starting threshold θ₀ (SAELens's <c>jumprelu_init_threshold</c>), also what a resampled latent restarts from.</summary>
    public double JumpReluInitThreshold { get; init; } = 1e-3;
    /// <summary>Subtract <c>b_dec</c> from the input before encoding (false for transcoders and Gemma Scope).</summary>
    public bool ApplyBDecToInput { get; init; } = true;
    public string HookName { get; init; } = "";
    public string? TargetHookName { get; init; }
    /// <summary>"none" once the normalisation factor is folded into the weights (what <see cref="SaeFiles"/> writes).</summary>
    public string NormalizeActivations { get; init; } = "none";
    public string ModelName { get; init; } = "";
    public int ContextSize { get; init; }
    public bool PrependBos { get; init; } = true;
    public string DatasetPath { get; init; } = "";
    public string Dtype { get; init; } = "float32";

    public bool IsTranscoder => TargetHookName is not null;

    /// <summary>Where the reconstruction goes: the target hook of a transcoder, else the input hook.</summary>
    public string OutputHookName => TargetHookName ?? HookName;

    /// <summary>The block index parsed from <c>blocks.{l}.…</c>, or 0 for points outside the blocks.</summary>
    public int HookLayer => HookName.StartsWith("blocks.") && int.TryParse(HookName.Split('.')[1], out int l) ? l : 0;

    public SaeConfig Validated()
    {
        if (DIn <= 0 || DSae <= 0) throw new GlassboxException($"An SAE needs positive d_in and d_sae, got d_in {DIn}, d_sae {DSae}.");
        if (Architecture is SaeArchitecture.TopK or SaeArchitecture.BatchTopK && (K <= 0 || K > DSae))
            throw new GlassboxException($"k must be in [1, d_sae = {DSae}], got {K}.");
        if (Architecture == SaeArchitecture.JumpRelu && !(JumpReluInitThreshold > 0 && double.IsFinite(JumpReluInitThreshold)))
            throw new GlassboxException($"JumpReLU's initial threshold θ₀ must be a positive number, got {JumpReluInitThreshold}.");
        return this;
    }

    public static string Name(SaeArchitecture a) => a switch
    {
        SaeArchitecture.Standard => "standard",
        SaeArchitecture.TopK => "topk",
        SaeArchitecture.BatchTopK => "batchtopk",
        SaeArchitecture.JumpRelu => "jumprelu",
        SaeArchitecture.Gated => "gated",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public static SaeArchitecture Parse(string name)
    {
        foreach (var a in Enum.GetValues<SaeArchitecture>())
            if (string.Equals(Name(a), name, StringComparison.OrdinalIgnoreCase) || (name == "relu" && a == SaeArchitecture.Standard)) return a;
        throw new GlassboxException($"Unknown SAE architecture '{name}'. Architectures: {NameSuggestions.Describe(name, Enum.GetValues<SaeArchitecture>().Select(Name).ToArray())}");
    }
}
