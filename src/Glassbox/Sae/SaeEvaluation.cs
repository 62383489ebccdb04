using System.Text;
using Glassbox.Features;
using Glassbox.Models;
using Glassbox.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Glassbox.Sae;

/// <summary>
/// An SAE's quality on a corpus (§7.4 of the technique reference): sparsity (L0), reconstruction (MSE summed over
/// d_in, FVU = Σ‖y − ŷ‖² / Σ‖y − ȳ‖²), and downstream effect when spliced in: CE loss recovered
/// = (CE_zero-ablation − CE_SAE) / (CE_zero-ablation − CE_clean), ΔCE and KL(p_clean ‖ p_SAE); latent densities
/// (dead: never fired over the tokens seen; dense: firing on more than 10 % of tokens) and a histogram of log₁₀ density.
/// </summary>
public sealed record SaeEvaluation(
    string Hook, int DSae, long Tokens, double L0, double Mse, double Fvu,
    double CeClean, double CeSae, double CeZeroAblation, double CeLossRecovered, double Kl,
    double DeadFraction, double DenseFraction, double[] Density, DensityHistogram Histogram) : IReport
{
    public const double DenseThreshold = 0.1;

    /// <summary>
    /// Runs the model clean, with the SAE spliced in (no error term) and with the hook zero-ablated, over batches of
    /// equal-length sequences. With <paramref name="skipFirstPosition"/> position 0 is left clean in every run and left
    /// out of the reconstruction metrics (for SAEs trained without BOS).
    /// </summary>
    public static SaeEvaluation Run(HookedTransformer model, SparseAutoencoder sae, IReadOnlyList<long[]> sequences, int batchSequences = 16, bool skipFirstPosition = true)
    {
        if (sequences.Count == 0) throw new GlassboxException("SAE evaluation needs at least one sequence.");
        var c = sae.Config;
        int skip = skipFirstPosition ? 1 : 0;
        double ceClean = 0, ceSae = 0, ceAbl = 0, kl = 0, l0 = 0, squaredError = 0, squaredNorm = 0;
        long predictions = 0, tokens = 0, klPositions = 0;
        var sum = new double[c.DIn];
        Tensor? fired = null;
        using var _ = no_grad();
        foreach (var batch in sequences.Chunk(batchSequences).SelectMany(b => b.GroupBy(s => s.Length)))
        {
            using var scope = NewDisposeScope();
            var ids = tensor(batch.SelectMany(s => s).ToArray(), [batch.Count(), batch.Key]);
            var clean = model.Forward(ids);
            var (spliced, cache) = SaeSplicing.RunWithCache(model, ids, new SaeSplice(sae, SkipFirstPosition: skipFirstPosition));
            using (cache)
            {
                var ablated = model.RunWithHooks(ids, (c.OutputHookName, (y, _) =>
                    skipFirstPosition ? cat([y[.., ..1], zeros_like(y[.., 1..])], 1) : zeros_like(y)));
                var targets = ids[.., 1..].to(model.Device);
                double Ce(Tensor logits) => nn.functional.cross_entropy(logits[.., ..^1].flatten(0, 1), targets.flatten()).ToDouble();
                long n = targets.numel();
                ceClean += Ce(clean) * n; ceSae += Ce(spliced) * n; ceAbl += Ce(ablated) * n;
                var logP = clean.log_softmax(-1);
                kl += (logP.exp() * (logP - spliced.log_softmax(-1))).sum(-1)[.., skip..].sum().ToDouble();
                predictions += n;
                klPositions += spliced.shape[0] * (spliced.shape[1] - skip);

                string p = c.OutputHookName + ".";
                var f = cache[p + "hook_sae_acts_post"][.., skip..].flatten(0, 1);
                var y = c.IsTranscoder ? (cache[p + "hook_sae_error"] + cache[p + "hook_sae_recons"])[.., skip..].flatten(0, 1) : cache[p + "hook_sae_input"][.., skip..].flatten(0, 1);
                var yHat = cache[p + "hook_sae_recons"][.., skip..].flatten(0, 1);
                var active = f > 0;
                l0 += active.sum().item<long>();
                squaredError += (y - yHat).square().sum().to(ScalarType.Float64).item<double>();
                squaredNorm += y.square().sum().to(ScalarType.Float64).item<double>();
                var ySum = y.sum(dim: 0).to(ScalarType.Float64).cpu().data<double>().ToArray();
                for (int i = 0; i < sum.Length; i++) sum[i] += ySum[i];
                tokens += y.shape[0];
                var counts = active.sum(dim: 0, type: ScalarType.Int64);
                if (fired is null) fired = counts.DetachFromDisposeScope();
                else fired.add_(counts);
            }
        }
        using (fired)
        {
            double meanSq = sum.Sum(s => (s / tokens) * (s / tokens));
            double variance = squaredNorm - tokens * meanSq;
            var density = fired!.to(ScalarType.Float64).div(tokens).cpu().data<double>().ToArray();
            double clean = ceClean / predictions, withSae = ceSae / predictions, abl = ceAbl / predictions;
            return new SaeEvaluation(c.HookName, c.DSae, tokens, l0 / tokens, squaredError / tokens, squaredError / variance,
                clean, withSae, abl, (abl - withSae) / (abl - clean), kl / klPositions,
                density.Count(d => d == 0) / (double)density.Length, density.Count(d => d > DenseThreshold) / (double)density.Length,
                density, DensityHistogram.Of(density));
        }
    }

    public double DeltaCe => CeSae - CeClean;

    public IReadOnlyList<(string Name, double Value)> Metrics =>
    [
        ("tokens", Tokens), ("d_sae", DSae), ("L0", L0), ("MSE (summed over d_in)", Mse), ("FVU", Fvu), ("explained variance", 1 - Fvu),
        ("CE clean", CeClean), ("CE with SAE", CeSae), ("CE zero-ablation", CeZeroAblation), ("CE loss recovered", CeLossRecovered),
        ("delta CE", DeltaCe), ("KL(clean || SAE)", Kl), ("dead fraction", DeadFraction), ("dense fraction (> 0.1)", DenseFraction),
    ];

    public string ToText()
    {
        var text = new StringBuilder($"SAE at {Hook}\n");
        foreach (var (name, value) in Metrics) text.AppendLine($"  {name,-24} {value,12:G6}");
        text.AppendLine("density histogram (log10 firing rate):");
        text.Append(Histogram.ToText());
        return text.ToString();
    }

    public string ToCsv() => "metric,value\n" + string.Concat(Metrics.Select(m => $"{Csv.Field(m.Name)},{m.Value:R}\n"));

    public string ToJson() => ReportJson.Serialize(new
    {
        hook = Hook, dSae = DSae, tokens = Tokens, l0 = L0, mse = Mse, fvu = Fvu, ceClean = CeClean, ceSae = CeSae, ceZeroAblation = CeZeroAblation,
        ceLossRecovered = CeLossRecovered, deltaCe = DeltaCe, kl = Kl, deadFraction = DeadFraction, denseFraction = DenseFraction,
        densityHistogram = Histogram, density = Density,
    });

    public IReadOnlyList<Heatmap> Heatmaps => [Histogram.ToHeatmap()];
}
