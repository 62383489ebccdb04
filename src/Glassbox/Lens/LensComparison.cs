using Glassbox.Reporting;

namespace Glassbox.Lens;

/// <summary>Held-out mean <c>KL(p_L ‖ lens_l)</c> (nats) per layer, logit lens against tuned lens, over <see cref="Tokens"/> positions.</summary>
public sealed record LensComparison(double[] LogitLensKl, double[] TunedLensKl, long Tokens) : IReport
{
    public int Layers => LogitLensKl.Length;

    public Heatmap Grid
    {
        get
        {
            var v = new double[Layers, 2];
            for (int l = 0; l < Layers; l++) (v[l, 0], v[l, 1]) = (LogitLensKl[l], TunedLensKl[l]);
            return new Heatmap($"KL(final ‖ lens), nats, over {Tokens} tokens", "layer", "lens",
                Heatmap.Numbered("resid_pre ", Layers), ["logit lens", "tuned lens"], v).Validated();
        }
    }

    public IReadOnlyList<Heatmap> Heatmaps => [Grid];
    public string ToText() => Grid.ToTable(4);
    public string ToCsv() => "layer,logit_lens_kl,tuned_lens_kl\n" + string.Concat(Enumerable.Range(0, Layers).Select(l => FormattableString.Invariant($"{l},{LogitLensKl[l]:R},{TunedLensKl[l]:R}\n")));
    public string ToJson() => ReportJson.Serialize(new { tokens = Tokens, logitLensKl = LogitLensKl, tunedLensKl = TunedLensKl });
    public override string ToString() => ToText();
}
