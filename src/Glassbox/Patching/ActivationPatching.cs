using Glassbox.Hooks;
using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Patching;

/// <summary>Denoising runs the corrupted prompts and patches in clean activations (is it sufficient?); noising runs the clean
/// prompts and patches in a replacement (is it necessary?).</summary>
public enum PatchDirection { Denoising, Noising }

/// <summary>The replacement when noising: the corrupted run's activation, its mean over the corrupted prompts (per position), or zero.</summary>
public enum PatchValue { Resample, Mean, Zero }

/// <summary>What one patch covers: a layer × position of the residual stream, attention or MLP output; a head at all positions
/// or at one; a head's queries, keys, values or attention pattern; a head's whole input (<c>hook_attn_in</c>, which its
/// query, key and value all read).</summary>
public enum PatchSite { ResidPre, AttnOut, MlpOut, Heads, HeadsByPosition, HeadQ, HeadK, HeadV, HeadPattern, HeadAttnIn }

/// <summary>
/// Activation patching (Vig et al. 2020; Meng et al. 2022; Zhang &amp; Nanda 2024, arXiv 2309.16042): run one input, replace one
/// activation h_c by its value from another run (or a mean, or zero), and measure the metric; normalised
/// <c>(M − M_corr)/(M_clean − M_corr)</c>. Head sweeps over all positions go through <see cref="HeadAblationSweep"/>.
/// </summary>
public static class ActivationPatching
{
    public static PatchingReport Run(HookedTransformer model, PatchingTask task, PatchSite site,
        PatchDirection direction = PatchDirection.Denoising, PatchValue value = PatchValue.Resample)
    {
        var cfg = model.Config;
        if (cfg.AttnOnly && site == PatchSite.MlpOut) throw new GlassboxException("This model has no MLPs to patch.");
        using var scope = NewDisposeScope();
        var (clean, corrupted) = task.Baselines(model);
        var target = direction == PatchDirection.Denoising ? task.Corrupted : task.Clean;
        string shortName = HookShortName(site);
        var names = string.Join(",", Enumerable.Range(0, cfg.NLayers).Select(l => HookNames.Full(shortName, l)));
        var (_, cache) = model.RunWithCache(direction == PatchDirection.Denoising ? task.Clean : task.Corrupted, names);
        using (cache)
        {
            // The replacement of a whole activation; hooks then copy the patched slice from it.
            Tensor Source(int layer) => Replacement(cache[shortName, layer], direction, value);
            double Measure(params (string, HookFn)[] hooks) => task.Measure(model, target, hooks);
            double unpatched = Measure();
            (string, HookFn) Patch(int layer, Func<Tensor, Tensor, Tensor> splice) =>
                (HookNames.Full(shortName, layer), (x, _) => { using var s = NewDisposeScope(); return splice(x.clone(), Source(layer)).MoveToOuterDisposeScope(); });

            int L = cfg.NLayers, H = site is PatchSite.HeadK or PatchSite.HeadV ? cfg.NKvHeads : cfg.NHeads;
            long P = task.Positions;
            double[,] grid;
            string[] rows, columns;
            (string, string) axes;
            switch (site)
            {
                case PatchSite.ResidPre or PatchSite.AttnOut or PatchSite.MlpOut:
                    grid = Sweep(L, (int)P, (l, p) => Measure(Patch(l, (x, s) => { x[.., p] = s[.., p]; return x; })));
                    (rows, columns, axes) = (Labels("L", L), Labels("", (int)P), ("layer", "position"));
                    break;
                case PatchSite.HeadsByPosition:
                    grid = Sweep(L * H, (int)P, (lh, p) => Measure(Patch(lh / H, (x, s) => { x[.., p, lh % H] = s[.., p, lh % H]; return x; })));
                    rows = Enumerable.Range(0, L * H).Select(i => $"L{i / H}H{i % H}").ToArray();
                    (columns, axes) = (Labels("", (int)P), ("head", "position"));
                    break;
                case PatchSite.Heads:
                    grid = HeadAblationSweep.Run(model, hooks => Measure(hooks), (l, h) => Patch(l, (x, s) => { x[.., .., h] = s[.., .., h]; return x; }), "").Values;
                    for (int l = 0; l < L; l++) for (int h = 0; h < H; h++) grid[l, h] += unpatched;
                    (rows, columns, axes) = (Labels("L", L), Labels("H", H), ("layer", "head"));
                    break;
                default:
                    // q/k/v are [batch, pos, head, d_head], attn_in [batch, pos, head, d_model]; the pattern is [batch, head, q, k].
                    int headAxis = site == PatchSite.HeadPattern ? 1 : 2;
                    grid = Sweep(L, H, (l, h) => Measure(Patch(l, (x, s) => x.index_copy(headAxis, tensor(new long[] { h }, device: x.device), s.narrow(headAxis, h, 1)))));
                    (rows, columns, axes) = (Labels("L", L), Labels(site is PatchSite.HeadK or PatchSite.HeadV && H != cfg.NHeads ? "KV" : "H", H), ("layer", "head"));
                    break;
            }
            return new PatchingReport($"{direction} {site}" + (direction == PatchDirection.Noising ? $" ({value})" : ""), task.Metric.Name,
                clean, corrupted, unpatched, axes.Item1, axes.Item2, rows, columns, grid);
        }
    }

    /// <summary>The value patched in: the source run's activation, or (noising) its mean over the batch, or zero.</summary>
    internal static Tensor Replacement(Tensor source, PatchDirection direction, PatchValue value) =>
        direction == PatchDirection.Denoising || value == PatchValue.Resample ? source
        : value == PatchValue.Zero ? zeros_like(source) : source.mean(new long[] { 0 }, keepdim: true).expand_as(source);

    /// <summary>The metric with one whole activation (every position, every head) patched, e.g. all of resid_pre at a layer.</summary>
    public static double PatchWhole(HookedTransformer model, PatchingTask task, string hookName,
        PatchDirection direction = PatchDirection.Denoising, PatchValue value = PatchValue.Resample)
    {
        using var scope = NewDisposeScope();
        var (_, cache) = model.RunWithCache(direction == PatchDirection.Denoising ? task.Clean : task.Corrupted, hookName);
        using (cache)
        {
            var replacement = Replacement(cache[hookName], direction, value);
            return task.Measure(model, direction == PatchDirection.Denoising ? task.Corrupted : task.Clean, (hookName, (_, _) => replacement));
        }
    }

    static double[,] Sweep(int rows, int columns, Func<int, int, double> measure)
    {
        var grid = new double[rows, columns];
        for (int r = 0; r < rows; r++) for (int c = 0; c < columns; c++) grid[r, c] = measure(r, c);
        return grid;
    }

    internal static string[] Labels(string prefix, int count) => Reporting.Heatmap.Numbered(prefix, count).ToArray();

    internal static string HookShortName(PatchSite site) => site switch
    {
        PatchSite.ResidPre => "resid_pre",
        PatchSite.AttnOut => "attn_out",
        PatchSite.MlpOut => "mlp_out",
        PatchSite.HeadQ => "q",
        PatchSite.HeadK => "k",
        PatchSite.HeadV => "v",
        PatchSite.HeadPattern => "pattern",
        PatchSite.HeadAttnIn => "attn_in",
        _ => "z",
    };

    public static PatchSite ParseSite(string text) => text.ToLowerInvariant() switch
    {
        "resid" or "resid_pre" or "residual" => PatchSite.ResidPre,
        "attn" or "attn_out" => PatchSite.AttnOut,
        "mlp" or "mlp_out" => PatchSite.MlpOut,
        "heads" or "z" => PatchSite.Heads,
        "heads-pos" or "heads_by_position" => PatchSite.HeadsByPosition,
        "q" => PatchSite.HeadQ,
        "k" => PatchSite.HeadK,
        "v" => PatchSite.HeadV,
        "pattern" => PatchSite.HeadPattern,
        "attn_in" or "attn-in" => PatchSite.HeadAttnIn,
        _ => throw new GlassboxException($"Unknown patch site '{text}' (use resid, attn, mlp, heads, heads-pos, q, k, v, pattern or attn-in)."),
    };
}
