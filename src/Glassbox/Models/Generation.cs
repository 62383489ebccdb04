using static TorchSharp.torch;

namespace Glassbox.Models;

/// <summary>Decoding settings. Temperature 0 is greedy; top-k and top-p filter before sampling.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 32;
    public double Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public int Seed { get; init; }
    /// <summary>Stop after emitting this token (the model's EOS by default); null never stops early.</summary>
    public int? StopToken { get; init; } = -1;
    public bool UseKvCache { get; init; } = true;
}

/// <summary>
/// Autoregressive generation with a KV cache; hooks registered on the model run at every step
/// (on the new positions only, as in TransformerLens). Sampling draws from a seeded
/// <see cref="Random"/> over float64 probabilities, so a seed reproduces a sample on any device.
/// </summary>
public static class Generation
{
    /// <summary>The prompt followed by the generated ids (stopping at the stop token or the context's end).</summary>
    public static long[] Generate(HookedTransformer model, IReadOnlyList<long> prompt, GenerationOptions? options = null)
    {
        var o = options ?? new GenerationOptions();
        if (prompt.Count == 0) throw new GlassboxException("Generation needs at least one prompt token (e.g. BOS).");
        model.CheckPromptLength(prompt.Count);
        if (o.Temperature < 0) throw new GlassboxException($"Temperature must be ≥ 0, got {o.Temperature}.");
        if (o.TopP is <= 0 or > 1) throw new GlassboxException($"top-p must be in (0, 1], got {o.TopP}.");
        if (o.TopK is <= 0) throw new GlassboxException($"top-k must be positive, got {o.TopK}.");
        int? stop = o.StopToken == -1 ? model.Config.EosTokenId : o.StopToken;
        var ids = new List<long>(prompt);
        var rng = new Random(o.Seed);
        using var cache = o.UseKvCache ? new KvCache(model.Config.NLayers) : null;
        int budget = Math.Min(o.MaxNewTokens, model.Config.ContextLength - prompt.Count);
        for (int step = 0; step < budget; step++)
        {
            using var scope = NewDisposeScope();
            var input = cache is null || step == 0 ? ids.ToArray() : new[] { ids[^1] };
            using var logits = model.Forward(tensor(input).unsqueeze(0), cache);
            var last = logits[0, -1].to(ScalarType.Float64, CPU).data<double>().ToArray();
            // −∞ is a legitimate ban from a hook; NaN or +∞ means something overflowed, and argmax over it would be arbitrary.
            if (last.Any(v => double.IsNaN(v) || double.IsPositiveInfinity(v)))
                throw new GlassboxException($"The logits at generation step {step + 1} are NaN or +∞ (an intervention overflowed the residual stream?).");
            long next = o.Temperature == 0 ? ArgMax(last) : Sample(last, o, rng);
            ids.Add(next);
            if (next == stop) break;
        }
        return ids.ToArray();
    }

    static long ArgMax(double[] x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    static long Sample(double[] logits, GenerationOptions o, Random rng)
    {
        int n = logits.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();
        int keep = Math.Min(o.TopK ?? n, n);
        double max = logits[order[0]];
        var p = new double[keep];
        double total = 0;
        for (int r = 0; r < keep; r++) total += p[r] = Math.Exp((logits[order[r]] - max) / o.Temperature);
        if (o.TopP is double topP)
        {
            // Keep the smallest prefix of the ranking whose mass reaches top-p.
            double mass = 0;
            int cut = 0;
            while (cut < keep && mass < topP * total) mass += p[cut++];
            keep = Math.Max(cut, 1);
            total = p.Take(keep).Sum();
        }
        double u = rng.NextDouble() * total;
        for (int r = 0; r < keep; r++)
        {
            u -= p[r];
            if (u <= 0) return order[r];
        }
        return order[keep - 1];
    }
}
