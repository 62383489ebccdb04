using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>One training step's loss: the total to minimise and its parts (per-token means).</summary>
public sealed record SaeLoss(Tensor Total, Tensor Mse, Tensor Sparsity, Tensor Auxiliary, Tensor Activations);

/// <summary>What the trainer tells the loss at each step.</summary>
/// <param name="SparsityCoefficient">λ for the L1 / L0 term, after its warm-up.</param>
/// <param name="Dead">[d_sae] bool: latents that have not fired for the dead window (TopK's aux-k uses it).</param>
public sealed record SaeStepState(double SparsityCoefficient, Tensor? Dead);

/// <summary>
/// A sparse autoencoder (or transcoder) at a hook point (SAELens's tensors and forward pass):
/// <c>π = (x − s·b_dec) W_enc + b_enc</c>, <c>f = act(π)</c>, <c>x̂ = f W_dec + b_dec</c>, with s = 1 when
/// <c>apply_b_dec_to_input</c>. Each architecture is a subclass with its activation and training loss.
/// Owns its tensors, which live on one device and dtype.
/// </summary>
public abstract class SparseAutoencoder : IDisposable
{
    readonly Dictionary<string, Tensor> tensors = new(StringComparer.Ordinal);

    protected SparseAutoencoder(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights)
    {
        Config = config.Validated();
        foreach (var name in TensorNames)
        {
            if (!weights.TryGetValue(name, out var t))
                throw new GlassboxException($"The {SaeConfig.Name(config.Architecture)} SAE needs a tensor '{name}'; given: {string.Join(", ", weights.Keys)}.");
            var expected = ExpectedShape(name);
            if (!t.shape.SequenceEqual(expected))
                throw new GlassboxException($"SAE tensor {name} has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", expected)}] from d_in {config.DIn}, d_sae {config.DSae}.");
            tensors[name] = t.detach().clone().DetachFromDisposeScope();
        }
    }

    public SaeConfig Config { get; }

    /// <summary>The tensors this architecture saves and trains, in SAELens's names.</summary>
    public IReadOnlyList<string> TensorNames => Names(Config.Architecture);

    protected virtual long[] ExpectedShape(string name) => name switch
    {
        "W_enc" => [Config.DIn, Config.DSae],
        "W_dec" => [Config.DSae, Config.DIn],
        "b_dec" => [Config.DIn],
        _ => [Config.DSae],
    };

    public Tensor this[string name] => tensors[name];
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;
    /// <summary>The tensors the optimiser updates (a subclass may keep one out, e.g. a running threshold).</summary>
    public virtual IReadOnlyList<Tensor> Parameters => TensorNames.Select(n => tensors[n]).ToList();

    /// <summary>The trained per-latent vectors [d_sae] (biases; Gated's r_mag) with the value a fresh latent starts at.</summary>
    public virtual IEnumerable<(Tensor Vector, double Initial)> LatentVectors =>
        Parameters.Where(p => p.dim() == 1 && !ReferenceEquals(p, b_dec)).Select(p => (p, 0.0));

    /// <summary>[d_in, d_sae]</summary>
    public Tensor W_enc => tensors["W_enc"];
    /// <summary>[d_sae, d_in]: row i is latent i's direction.</summary>
    public Tensor W_dec => tensors["W_dec"];
    public Tensor b_dec => tensors["b_dec"];
    public Device Device => W_enc.device;
    public ScalarType DType => W_enc.dtype;

    /// <summary>π [..., d_sae] (the gate pre-activation for Gated SAEs).</summary>
    public virtual Tensor PreActivations(Tensor x) =>
        (Config.ApplyBDecToInput ? x - b_dec : x).matmul(W_enc) + tensors["b_enc"];

    /// <summary>f = act(π) as at inference.</summary>
    public abstract Tensor Activate(Tensor x, Tensor pre);

    /// <summary>Latent activations f [..., d_sae] for inputs x [..., d_in].</summary>
    public Tensor Encode(Tensor x) => Activate(x, PreActivations(x));

    public Tensor Decode(Tensor f) => f.matmul(W_dec) + b_dec;

    public Tensor Reconstruct(Tensor x) => Decode(Encode(x));

    /// <summary>The training loss for inputs x and targets y (y = x for an autoencoder).</summary>
    public abstract SaeLoss Loss(Tensor x, Tensor y, SaeStepState state);

    /// <summary>Summed squared error per token, averaged over tokens.</summary>
    protected static Tensor Mse(Tensor reconstruction, Tensor y) => (reconstruction - y).square().sum(-1).mean();

    /// <summary>Whether the trainer keeps decoder rows at unit norm (removing the parallel gradient first).</summary>
    public virtual bool UnitNormDecoder => true;

    /// <summary>Hook run after each optimiser step (e.g. BatchTopK updates its inference threshold there).</summary>
    public virtual void AfterStep(Tensor x, SaeLoss loss) { }

    /// <summary>
    /// Folds an input scale κ (the model activation times κ is what the SAE was trained on) and an output scale
    /// into the weights, so that the SAE then reads and writes raw activations: W_enc ×= κ_in, W_dec and b_dec ÷= κ_out.
    /// </summary>
    public virtual void FoldScales(double inputScale, double outputScale)
    {
        if (Config.ApplyBDecToInput && inputScale != outputScale)
            throw new GlassboxException("An SAE that subtracts b_dec from its input needs one scale for input and output.");
        using var _ = no_grad();
        W_enc.mul_(inputScale);
        W_dec.div_(outputScale);
        b_dec.div_(outputScale);
    }

    /// <summary>
    /// A freshly initialised SAE: decoder rows random directions (norm 0.1 for the standard SAE, as Conerly et al.
    /// 2024 prescribe, unit norm otherwise), W_enc = W_decᵀ, zero biases, and the architecture's own extras.
    /// </summary>
    public static SparseAutoencoder Initialise(SaeConfig config, int seed, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        config = config.Validated();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var dec = randn([config.DSae, config.DIn], dtype: ScalarType.Float64, generator: generator);
        dec = dec / dec.norm(1, keepdim: true) * (config.Architecture == SaeArchitecture.Standard ? 0.1 : 1.0);
        dec = dec.to(dtype, device ?? CPU);
        var weights = new Dictionary<string, Tensor>
        {
            ["W_dec"] = dec,
            ["W_enc"] = dec.t().contiguous(),
            ["b_dec"] = zeros(config.DIn, dtype: dtype, device: device),
        };
        var empty = zeros(config.DSae, dtype: dtype, device: device);
        var sae = Create(config, new Dictionary<string, Tensor>(weights), empty);
        return sae;
    }

    /// <summary>Builds an SAE from weights; tensors the architecture needs beyond <paramref name="weights"/> start as <paramref name="fill"/>.</summary>
    static SparseAutoencoder Create(SaeConfig config, Dictionary<string, Tensor> weights, Tensor fill)
    {
        foreach (var name in Names(config.Architecture)) if (!weights.ContainsKey(name)) weights[name] = Initial(config, name, fill);
        return Create(config, weights);
    }

    static Tensor Initial(SaeConfig config, string name, Tensor zero) => (config.Architecture, name) switch
    {
        (SaeArchitecture.JumpRelu, "threshold") => zero + config.JumpReluInitThreshold,
        _ => zero,
    };

    static IReadOnlyList<string> Names(SaeArchitecture a) => a switch
    {
        SaeArchitecture.JumpRelu or SaeArchitecture.BatchTopK => ["W_enc", "b_enc", "W_dec", "b_dec", "threshold"],
        SaeArchitecture.Gated => ["W_enc", "b_gate", "b_mag", "r_mag", "W_dec", "b_dec"],
        _ => ["W_enc", "b_enc", "W_dec", "b_dec"],
    };

    public static SparseAutoencoder Create(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) => config.Architecture switch
    {
        SaeArchitecture.Standard => new StandardSae(config, weights),
        SaeArchitecture.TopK => new TopKSae(config, weights),
        SaeArchitecture.BatchTopK => new BatchTopKSae(config, weights),
        SaeArchitecture.JumpRelu => new JumpReluSae(config, weights),
        SaeArchitecture.Gated => new GatedSae(config, weights),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    public virtual void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}
