using Glassbox.Models;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>One layer's reading at one position: the top tokens and their probabilities.</summary>
public sealed record LensReading(int Layer, int[] TopTokens, double[] TopProbabilities);

/// <summary>What a lens reads and how it labels tokens.</summary>
public sealed record LensOptions
{
    public int TopK { get; init; } = 5;
    /// <summary>A token whose probability and rank every cell reports.</summary>
    public int? Target { get; init; }
    /// <summary>Also decode each block's writes (<c>hook_attn_out</c>, <c>hook_mlp_out</c>) on their own.</summary>
    public bool Components { get; init; }
    /// <summary>How a token id is shown (default: the id).</summary>
    public Func<int, string>? Show { get; init; }
}

/// <summary>
/// Logit lens (nostalgebraist 2020): decode the residual stream before each block and after the last,
/// <c>ℓ^l = N_f(x^l) W_U + b_U</c>, with the final norm's scale computed from <c>x^l</c> itself. The
/// reading after the last block is the model's own output distribution, bit for bit.
/// </summary>
public static class LogitLens
{
    /// <summary>
    /// Reads one prompt (tokens [pos] or [1, pos]) at every layer and position: rows <c>resid_pre 0..L-1</c>
    /// (with <see cref="LensOptions.Components"/>, each block's <c>attn_out</c> and <c>mlp_out</c> after it) and <c>output</c>.
    /// </summary>
    public static LensReport Run(HookedTransformer model, Tensor tokens, LensOptions? options = null)
    {
        var o = options ?? new LensOptions();
        using var scope = NewDisposeScope();
        tokens = SinglePrompt(tokens);
        int L = model.Config.NLayers;
        var names = new List<string>();
        var rows = new List<string>();
        for (int l = 0; l < L; l++)
        {
            names.Add($"blocks.{l}.hook_resid_pre");
            rows.Add($"resid_pre {l}");
            if (!o.Components) continue;
            names.Add($"blocks.{l}.hook_attn_out");
            rows.Add($"attn_out {l}");
            if (model.Config.AttnOnly) continue;
            names.Add($"blocks.{l}.hook_mlp_out");
            rows.Add($"mlp_out {l}");
        }
        names.Add($"blocks.{L - 1}.hook_resid_post");
        rows.Add("output");
        var (logits, cache) = model.RunWithCache(tokens, string.Join(",", names));
        using (cache)
        {
            var show = o.Show ?? (id => id.ToString());
            return LensReport.Build("logit lens", rows, r => Decode(model, cache[names[r]][0]), logits[0],
                PositionLabels(tokens, show), show, o.TopK, o.Target);
        }
    }

    /// <summary>Readings at <paramref name="position"/> (default: last) for l = 0..L: row l decodes <c>blocks.l.hook_resid_pre</c>, row L the final residual.</summary>
    public static IReadOnlyList<LensReading> AtPosition(HookedTransformer model, Tensor tokens, int position = -1, int topK = 5)
    {
        var report = Run(model, tokens, new LensOptions { TopK = topK });
        int column = position < 0 ? report.Positions.Count + position : position;
        return Enumerable.Range(0, report.Rows.Count)
            .Select(l => new LensReading(l, report[l, column].TopTokens, report[l, column].TopProbabilities)).ToList();
    }

    /// <summary>Logits of a residual-stream vector (or batch of them) through the final norm and unembedding (and the final soft-cap, where the model has one).</summary>
    public static Tensor Decode(HookedTransformer model, Tensor residual) => model.Unembed(model.LnFinal.Forward(residual));

    internal static Tensor SinglePrompt(Tensor tokens)
    {
        if (tokens.dim() == 1) tokens = tokens.unsqueeze(0);
        if (tokens.dim() != 2 || tokens.shape[0] != 1)
            throw new GlassboxException($"A lens reads one prompt at a time: tokens [pos] or [1, pos], got [{string.Join(", ", tokens.shape)}].");
        if (tokens.shape[1] == 0) throw new GlassboxException("The prompt is empty.");
        return tokens;
    }

    internal static IReadOnlyList<string> PositionLabels(Tensor tokens, Func<int, string> show) =>
        tokens[0].to(CPU).data<long>().Select((id, i) => $"{i}:{show((int)id)}").ToArray();
}
