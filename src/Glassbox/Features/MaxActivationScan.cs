using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Features;

/// <summary>Sequences scanned so far out of the corpus's total.</summary>
public sealed record ScanProgress(long Sequences, long Total, long Tokens);

/// <summary>
/// Streams a corpus through the model and keeps, for every unit at a hook (its neurons, or an SAE's latents via
/// <c>toUnits</c>), the top-k sequences by the unit's peak activation and how often it fires, in a
/// <see cref="MaxActivationStore"/>. Each batch is committed, so an interrupted scan resumes at the first sequence not
/// committed (the corpus must be the same list). Cost: one forward pass per token.
/// </summary>
public static class MaxActivationScan
{
    public static void Run(HookedTransformer model, string hookName, Func<Tensor, Tensor>? toUnits, IReadOnlyList<long[]> sequences,
        MaxActivationStore store, int batchSequences = 16, bool skipFirstPosition = true, IProgress<ScanProgress>? progress = null)
    {
        _ = model.Hooks[hookName];
        var state = store.Load();
        long done = store.SequencesDone, tokens = store.TokensDone;
        int skip = skipFirstPosition ? 1 : 0;
        using var noGrad = no_grad();
        while (done < sequences.Count)
        {
            int length = sequences[(int)done].Length;
            var batch = sequences.Skip((int)done).Take(batchSequences).TakeWhile(s => s.Length == length).ToList();
            if (length <= skip) throw new GlassboxException($"Sequence {done} has {length} tokens; nothing to scan after position 0.");
            using (var scope = NewDisposeScope())
            {
                Tensor? units = null;
                using var ids = tensor(batch.SelectMany(s => s).ToArray(), [batch.Count, length]);
                model.RunWithHooks(ids, (hookName, (x, _) =>
                {
                    var flat = x.dim() == 4 ? x.flatten(2) : x;
                    units = (toUnits?.Invoke(flat) ?? flat)[.., skip..].to(ScalarType.Float32).Keep();
                    return null;
                })).Dispose();
                if (units!.shape[2] != store.Units)
                    throw new GlassboxException($"{hookName} gives {units.shape[2]} units but the store holds {store.Units}.");
                var (peak, where) = units.max(1); // [batch, units]
                var fired = (units > 0).sum([0, 1]).cpu().data<long>().ToArray();
                Merge(state, peak.t().contiguous().cpu().data<float>().ToArray(), (where + skip).t().contiguous().cpu().data<long>().ToArray(), done, batch.Count);
                for (int u = 0; u < fired.Length; u++) state.Fired[u] += fired[u];
            }
            tokens += (long)batch.Count * (length - skip);
            store.Commit(state, batch.Select((s, i) => (done + i, s)).ToList(), done + batch.Count, tokens);
            done += batch.Count;
            progress?.Report(new ScanProgress(done, sequences.Count, tokens));
        }
    }

    /// <summary>Inserts each sequence's peak into the unit's top-k, kept sorted best first (ties: the earlier sequence stays ahead).</summary>
    static void Merge(MaxActivationStore.State state, float[] peaks, long[] positions, long firstSequence, int count)
    {
        int units = state.Activations.GetLength(0), k = state.Activations.GetLength(1);
        for (int u = 0; u < units; u++)
            for (int b = 0; b < count; b++)
            {
                double value = peaks[u * count + b];
                if (!(value > state.Activations[u, k - 1])) continue;
                int r = k - 1;
                for (; r > 0 && value > state.Activations[u, r - 1]; r--)
                    (state.Activations[u, r], state.Sequences[u, r], state.Positions[u, r]) = (state.Activations[u, r - 1], state.Sequences[u, r - 1], state.Positions[u, r - 1]);
                (state.Activations[u, r], state.Sequences[u, r], state.Positions[u, r]) = (value, firstSequence + b, (int)positions[u * count + b]);
            }
    }
}
