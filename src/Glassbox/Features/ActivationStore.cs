using Glassbox.Hooks;
using Glassbox.Loading;
using Glassbox.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Features;

public sealed record ActivationStoreOptions
{
    /// <summary>Sequences run through the model together; one chunk of activations (and one cached file) each.</summary>
    public int SequencesPerChunk { get; init; } = 32;
    /// <summary>Tokens mixed in the shuffling buffer before batches are drawn from it.</summary>
    public int BufferTokens { get; init; } = 32_768;
    /// <summary>Scale activations to mean squared norm d_in (SAELens's <c>expected_average_only_in</c>).</summary>
    public bool Normalize { get; init; } = true;
    /// <summary>Leave out position 0 (BOS), whose norm is an outlier.</summary>
    public bool DropFirstPosition { get; init; } = true;
    /// <summary>Keep computed chunks in memory, so later epochs need no model run (for corpora that fit in RAM).</summary>
    public bool KeepInMemory { get; init; } = true;
    /// <summary>Cache chunks here as safetensors; chunks already there are read instead of re-running the model.</summary>
    public string? CacheDirectory { get; init; }
    public int Seed { get; init; }
}

/// <summary>Chunks produced so far (computed or read from the cache) out of the corpus's total.</summary>
public sealed record ActivationStoreProgress(int Chunk, int Chunks, bool FromCache);

/// <summary>
/// Streams activations of a hook point over a tokenised corpus (SAELens's activation store): the model runs a chunk of
/// sequences at a time, activations are optionally cached on disk in safetensors chunks (so training epochs need no
/// model run, and an interrupted caching run resumes where it stopped), scaled by κ = √d / E‖x‖ when normalising,
/// and mixed in a shuffling buffer. A second hook gives the targets of a transcoder.
/// </summary>
public sealed class ActivationStore : IDisposable
{
    readonly HookedTransformer model;
    readonly IReadOnlyList<long[]> sequences;
    readonly ActivationStoreOptions options;
    double? inputScale, targetScale;
    long? targetWidth, inputWidth;
    readonly Dictionary<int, Tensor[]> memory = new();

    public ActivationStore(HookedTransformer model, string hookName, string? targetHookName, IReadOnlyList<long[]> sequences, ActivationStoreOptions? options = null)
    {
        this.options = options ?? new ActivationStoreOptions();
        if (sequences.Count == 0) throw new GlassboxException("The activation store needs at least one sequence.");
        if (this.options.SequencesPerChunk <= 0 || this.options.BufferTokens <= 0) throw new GlassboxException("Chunk and buffer sizes must be positive.");
        _ = model.Hooks[hookName];
        if (targetHookName is not null) _ = model.Hooks[targetHookName];
        (this.model, HookName, TargetHookName, this.sequences) = (model, hookName, targetHookName, sequences);
        if (this.options.CacheDirectory is string dir) Directory.CreateDirectory(dir);
    }

    public string HookName { get; }
    public Device Device => model.Device;
    public ScalarType DType => model.DType;
    public string? TargetHookName { get; }
    public int ChunkCount => (sequences.Count + options.SequencesPerChunk - 1) / options.SequencesPerChunk;
    public IProgress<ActivationStoreProgress>? Progress { get; set; }

    /// <summary>κ for the input activations (1 without normalisation), estimated on the first chunk.</summary>
    public double InputScale => FirstChunkStatistics().Input;
    /// <summary>Width of the input activation (e.g. n_heads · d_head for a flattened hook).</summary>
    public int InputWidth => (int)(inputWidth ?? FirstChunkWidth());

    long FirstChunkWidth()
    {
        FirstChunkStatistics();
        return inputWidth!.Value;
    }
    public double TargetScale => FirstChunkStatistics().Target;

    (double Input, double Target) FirstChunkStatistics()
    {
        if (inputScale is double i && targetScale is double t) return (i, t);
        using var scope = NewDisposeScope();
        var parts = RawChunk(0);
        double Scale(Tensor x) => options.Normalize ? Math.Sqrt(x.shape[1]) / x.norm(1).mean().ToDouble() : 1;
        inputScale = Scale(parts[0]);
        targetScale = parts.Length > 1 ? Scale(parts[1]) : inputScale;
        targetWidth = parts[^1].shape[1];
        inputWidth = parts[0].shape[1];
        return (inputScale.Value, targetScale.Value);
    }

    /// <summary>Chunk <paramref name="index"/> as [tokens, d] tensors (input, then target for transcoders), unscaled.</summary>
    Tensor[] RawChunk(int index)
    {
        if (memory.TryGetValue(index, out var kept)) return kept.Select(t => t.alias()).ToArray();
        var chunk = ComputeOrReadChunk(index);
        if (options.KeepInMemory) memory[index] = chunk.Select(t => t.clone().DetachFromDisposeScope()).ToArray();
        return chunk;
    }

    Tensor[] ComputeOrReadChunk(int index)
    {
        string? file = options.CacheDirectory is string dir ? Path.Combine(dir, $"chunk_{index:D5}.safetensors") : null;
        if (file is not null && File.Exists(file))
        {
            using var st = SafeTensorsFile.Open(file);
            if (!st.Metadata.TryGetValue("hook", out var hook) || hook != HookName || st.Metadata.GetValueOrDefault("target") != (TargetHookName ?? ""))
                throw new GlassboxException($"{file} caches activations of another hook ({hook}); use another cache directory.");
            Progress?.Report(new ActivationStoreProgress(index + 1, ChunkCount, true));
            return TargetHookName is null ? [st.Read("input", model.DType, model.Device)] : [st.Read("input", model.DType, model.Device), st.Read("target", model.DType, model.Device)];
        }
        var result = Run(sequences.Skip(index * options.SequencesPerChunk).Take(options.SequencesPerChunk).ToList());
        if (file is not null)
        {
            var named = new[] { "input", "target" }.Zip(result).Select(p => KeyValuePair.Create(p.First, p.Second));
            SafeTensorsWriter.Write(file, named, new Dictionary<string, string> { ["hook"] = HookName, ["target"] = TargetHookName ?? "" });
        }
        Progress?.Report(new ActivationStoreProgress(index + 1, ChunkCount, false));
        return result;
    }

    Tensor[] Run(List<long[]> chunk)
    {
        var inputs = new List<Tensor>();
        var targets = new List<Tensor>();
        int skip = options.DropFirstPosition ? 1 : 0;
        using var _ = no_grad();
        foreach (var group in chunk.GroupBy(s => s.Length))
        {
            using var tokens = tensor(group.SelectMany(s => s).ToArray(), [group.Count(), group.Key]);
            Tensor Flatten(Tensor x) => x[.., skip..].reshape(x.shape[0] * (x.shape[1] - skip), -1).Keep();
            var hooks = new List<(string, HookFn)> { (HookName, (x, _) => { inputs.Add(Flatten(x)); return null; }) };
            if (TargetHookName is not null) hooks.Add((TargetHookName, (y, _) => { targets.Add(Flatten(y)); return null; }));
            model.RunWithHooks(tokens, hooks.ToArray()).Dispose();
        }
        var result = TargetHookName is null ? new[] { cat(inputs, 0) } : [cat(inputs, 0), cat(targets, 0)];
        foreach (var t in inputs.Concat(targets)) t.Dispose();
        return result;
    }

    /// <summary>
    /// Scaled (input, target) batches of <paramref name="batchTokens"/> rows, epoch after epoch, without end; the target
    /// is the input itself for an SAE. The buffer is shuffled with the seed, and half of it is kept for the next
    /// refill, so batches mix tokens from many chunks. The batches belong to the dispose scope current when the enumerator advances.
    /// </summary>
    public IEnumerable<(Tensor Input, Tensor Target)> Batches(int batchTokens)
    {
        var generator = new Generator((ulong)options.Seed);
        Tensor? rest = null;
        for (int epoch = 0; ; epoch++)
        {
            for (int c = 0; c < ChunkCount; c++)
            {
                Tensor buffer;
                using (var scope = NewDisposeScope())
                {
                    FirstChunkStatistics();
                    var parts = RawChunk(c);
                    var scaled = TargetHookName is null ? parts[0] * InputScale : cat([parts[0] * InputScale, parts[1] * TargetScale], 1);
                    buffer = (rest is null ? scaled : cat([rest, scaled], 0)).DetachFromDisposeScope();
                    rest?.Dispose();
                    rest = null;
                }
                if (buffer.shape[0] < Math.Max(options.BufferTokens, 2L * batchTokens)) { rest = buffer; continue; }
                using (buffer)
                {
                    // Detached: the consumer's per-step dispose scopes must not free the buffer between batches.
                    using var order = randperm(buffer.shape[0], generator: generator, device: buffer.device).DetachFromDisposeScope();
                    using var shuffled = buffer.index_select(0, order).DetachFromDisposeScope();
                    long half = shuffled.shape[0] / 2 / batchTokens * batchTokens;
                    for (long start = 0; start + batchTokens <= half; start += batchTokens)
                        yield return Split(shuffled.narrow(0, start, batchTokens));
                    rest = shuffled.narrow(0, half, shuffled.shape[0] - half).clone().DetachFromDisposeScope();
                }
            }
        }
    }

    (Tensor, Tensor) Split(Tensor rows)
    {
        if (TargetHookName is null)
        {
            var x = rows.clone();
            return (x, x);
        }
        long dIn = rows.shape[1] - targetWidth!.Value;
        return (rows.narrow(1, 0, dIn).clone(), rows.narrow(1, dIn, targetWidth.Value).clone());
    }

    /// <summary>Tokens per pass over the corpus (after dropping position 0 if asked).</summary>
    public long TokensPerEpoch => sequences.Sum(s => (long)s.Length - (options.DropFirstPosition ? 1 : 0));

    public void Dispose()
    {
        foreach (var t in memory.Values.SelectMany(c => c)) t.Dispose();
        memory.Clear();
    }
}
