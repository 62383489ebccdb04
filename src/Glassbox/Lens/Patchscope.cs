using Glassbox.Hooks;
using Glassbox.Models;
using Glassbox.Reporting;
using static TorchSharp.torch;

namespace Glassbox.Lens;

/// <summary>Where a patchscope reads and writes. Negative positions count from the end; a target layer of L means the final residual.</summary>
public sealed record PatchscopeOptions
{
    public int SourceLayer { get; init; }
    public int SourcePosition { get; init; } = -1;
    /// <summary>Default: the source layer.</summary>
    public int? TargetLayer { get; init; }
    public int TargetPosition { get; init; } = -1;
    /// <summary>The mapping <c>g</c> applied to the source state (identity when null).</summary>
    public Func<Tensor, Tensor>? Mapping { get; init; }
    public int MaxNewTokens { get; init; } = 8;
    public int TopK { get; init; } = 5;
}

/// <summary>A patchscope's result: the target's next-token distribution at <c>i*</c> with and without the patch, and a greedy continuation.</summary>
public sealed record PatchscopeReport(int SourceLayer, int SourcePosition, int TargetLayer, int TargetPosition,
    int[] TopTokens, double[] TopProbabilities, int[] BaselineTopTokens, double[] BaselineTopProbabilities,
    long[] Generated, string GeneratedText, [property: System.Text.Json.Serialization.JsonIgnore] Func<int, string> Show) : IReport
{
    public IReadOnlyList<Heatmap> Heatmaps => [];

    public string ToText()
    {
        var sb = new System.Text.StringBuilder(
            $"patchscope: source layer {SourceLayer}, position {SourcePosition} → target layer {TargetLayer}, position {TargetPosition}\n");
        sb.Append($"{"rank",-5}{"patched",-20}{"p",9}   {"unpatched",-20}{"p",9}\n");
        for (int r = 0; r < TopTokens.Length; r++)
            sb.Append($"{r + 1,-5}{Fit(Show(TopTokens[r])),-20}{TopProbabilities[r],9:F4}   {Fit(Show(BaselineTopTokens[r])),-20}{BaselineTopProbabilities[r],9:F4}\n");
        return sb.Append($"generated: {GeneratedText}\n").ToString();

        static string Fit(string s) => s.Length <= 19 ? s : s[..18] + "…";
    }

    public string ToCsv() => "rank,patched,patched_probability,unpatched,unpatched_probability\n" + string.Concat(Enumerable.Range(0, TopTokens.Length).Select(r =>
        FormattableString.Invariant($"{r + 1},{Csv.Field(Show(TopTokens[r]))},{TopProbabilities[r]:R},{Csv.Field(Show(BaselineTopTokens[r]))},{BaselineTopProbabilities[r]:R}\n")));

    public string ToJson() => ReportJson.Serialize(new
    {
        sourceLayer = SourceLayer, sourcePosition = SourcePosition, targetLayer = TargetLayer, targetPosition = TargetPosition,
        top = TopTokens.Zip(TopProbabilities, (id, p) => new { id, token = Show(id), probability = p }),
        baseline = BaselineTopTokens.Zip(BaselineTopProbabilities, (id, p) => new { id, token = Show(id), probability = p }),
        generated = Generated, generatedText = GeneratedText,
    });

    public override string ToString() => ToText();
}

/// <summary>
/// Patchscopes (Ghandeharioun et al. 2024, arXiv 2401.06102): decode a hidden state in another context. Take
/// <c>h = x^l_i(S)</c> from the source prompt, run the target prompt with <c>x^{l*}_{i*} ← g(h)</c> (hook
/// <c>blocks.{l*}.hook_resid_pre</c>, or the final residual for <c>l* = L</c>), then read position <c>i*</c> and
/// generate greedily. With the identity target prompt the model is asked to repeat what the state encodes.
/// </summary>
public static class Patchscope
{
    /// <summary>The paper's identity target prompt; <c>i*</c> is its last token, the <c>?</c>.</summary>
    public const string IdentityPrompt = "cat->cat; 1135->1135; hello->hello; ?";

    public static PatchscopeReport Run(HookedTransformer model, IReadOnlyList<long> source, IReadOnlyList<long> target,
        PatchscopeOptions? options = null, Func<int, string>? show = null, Func<IEnumerable<int>, string>? decode = null)
    {
        var o = options ?? new PatchscopeOptions();
        int L = model.Config.NLayers;
        int targetLayer = o.TargetLayer ?? o.SourceLayer;
        if (o.SourceLayer < 0 || o.SourceLayer >= L) throw new GlassboxException($"Source layer {o.SourceLayer} is outside 0..{L - 1}.");
        if (targetLayer < 0 || targetLayer > L) throw new GlassboxException($"Target layer {targetLayer} is outside 0..{L} (L is the final residual).");
        int i = Position(o.SourcePosition, source.Count, "source");
        int iStar = Position(o.TargetPosition, target.Count, "target");
        show ??= id => id.ToString();

        using var scope = NewDisposeScope();
        var h = SourceStates(model, source, i)[o.SourceLayer];
        if (o.Mapping is not null) h = o.Mapping(h);

        string hookName = TargetHook(model, targetLayer);
        var targetTokens = tensor(target.ToArray()).unsqueeze(0);
        var patched = Patched(model, targetTokens, targetLayer, iStar, h);
        var baseline = model.Forward(targetTokens)[0, iStar].softmax(-1);
        var (pv, pi) = patched.topk(o.TopK);
        var (bv, bi) = baseline.topk(o.TopK);

        // Generation continues the target prompt up to i*, so the patched state is the one that drives the continuation.
        var prefix = target.Take(iStar + 1).ToArray();
        long[] generated;
        using (model.Hooks.Add(hookName, PatchOnce(h, iStar)))
            generated = Generation.Generate(model, prefix, new GenerationOptions { MaxNewTokens = o.MaxNewTokens, StopToken = null })[prefix.Length..];
        string text = decode?.Invoke(generated.Select(x => (int)x)) ?? string.Join(" ", generated.Select(x => show((int)x)));
        return new PatchscopeReport(o.SourceLayer, i, targetLayer, iStar, Ids(pi), Probabilities(pv), Ids(bi), Probabilities(bv), generated, text, show);
    }

    /// <summary><c>x^l_i</c> of the source prompt for every layer l, [layer] of [d_model].</summary>
    internal static Tensor[] SourceStates(HookedTransformer model, IReadOnlyList<long> source, int position)
    {
        var (_, cache) = model.RunWithCache(tensor(source.ToArray()).unsqueeze(0), "blocks.*.hook_resid_pre");
        using (cache) return Enumerable.Range(0, model.Config.NLayers).Select(l => cache["resid_pre", l][0, position].clone()).ToArray();
    }

    /// <summary>Where a state is written for target layer l*: its resid_pre, or the final residual for l* = L.</summary>
    internal static string TargetHook(HookedTransformer model, int targetLayer) =>
        targetLayer < model.Config.NLayers ? $"blocks.{targetLayer}.hook_resid_pre" : $"blocks.{model.Config.NLayers - 1}.hook_resid_post";

    /// <summary>The target's next-token distribution at <paramref name="position"/> with <paramref name="h"/> written there at <paramref name="targetLayer"/>.</summary>
    internal static Tensor Patched(HookedTransformer model, Tensor targetTokens, int targetLayer, int position, Tensor h) =>
        model.RunWithHooks(targetTokens, (TargetHook(model, targetLayer), PatchOnce(h, position)))[0, position].softmax(-1);

    /// <summary>Replaces position <paramref name="position"/> on the first call only: with a KV cache, later calls carry new positions.</summary>
    static HookFn PatchOnce(Tensor h, int position)
    {
        bool done = false;
        return (x, _) =>
        {
            if (done) return null;
            done = true;
            var y = x.clone();
            y[0, position] = h.to(y.dtype);
            return y;
        };
    }

    internal static int Position(int position, int length, string what)
    {
        if (length == 0) throw new GlassboxException($"The {what} prompt is empty.");
        int p = position < 0 ? length + position : position;
        if (p < 0 || p >= length) throw new GlassboxException($"The {what} position {position} is outside a prompt of {length} tokens.");
        return p;
    }

    static int[] Ids(Tensor indices) => indices.data<long>().Select(x => (int)x).ToArray();
    static double[] Probabilities(Tensor values) => values.to(ScalarType.Float64).data<double>().ToArray();
}
