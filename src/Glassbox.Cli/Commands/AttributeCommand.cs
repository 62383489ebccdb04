using System.CommandLine;
using Glassbox.Attribution;
using Glassbox.Models;
using Glassbox.Tokenization;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox attribute</c>: which input tokens made the model produce each target token, by any registered
/// method (<c>--method list</c>), for a given target, a greedy continuation, or the model's own top prediction.
/// </summary>
public static class AttributeCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var o = new OutputOptions();
        var method = new Option<string>("--method") { Description = "attribution method, or 'list' to list them", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "prompt text (the tokenizer's BOS rule applies)" };
        var ids = new Option<string?>("--ids") { Description = "comma-separated prompt token ids, fed as given" };
        var target = new Option<string?>("--target") { Description = "continuation to attribute, token by token (default: the model's top next token)" };
        var generate = new Option<int?>("--generate") { Description = "attribute N greedily generated tokens" };
        var contrast = new Option<string?>("--contrast") { Description = "foil token: attribute target − foil (Yin & Neubig 2022)" };
        var score = new Option<string>("--score") { Description = "logit, logprob or prob", DefaultValueFactory = _ => "logit" };
        var steps = new Option<int>("--steps") { Description = "integrated gradients: steps", DefaultValueFactory = _ => 50 };
        var rule = new Option<string>("--rule") { Description = "integrated gradients: graded-gauss-legendre (α = s³), gauss-legendre, trapezoid, riemann-left, riemann-right, riemann-middle", DefaultValueFactory = _ => "graded-gauss-legendre" };
        var baseline = new Option<string?>("--baseline") { Description = "integrated gradients: baseline token (default: zero embedding)" };
        var samples = new Option<int>("--samples") { Description = "SmoothGrad: noisy samples", DefaultValueFactory = _ => 50 };
        var noise = new Option<double>("--noise") { Description = "SmoothGrad: noise level ρ", DefaultValueFactory = _ => 0.15 }.AtLeast(0.0);
        var occlude = new Option<string>("--occlude") { Description = "occlusion: zero, replace or remove", DefaultValueFactory = _ => "zero" };
        var replacement = new Option<string?>("--replacement") { Description = "occlusion: the replacement token (with --occlude replace)" };
        var span = new Option<int>("--span") { Description = "occlusion: tokens per occluded span", DefaultValueFactory = _ => 1 };
        var words = new Option<bool>("--words") { Description = "sum each word's subword columns into one (Inseq's subword aggregation; row totals are kept)" };
        var stride = new Option<int>("--stride") { Description = "occlusion: tokens between span starts", DefaultValueFactory = _ => 1 };
        var layer = new Option<int?>("--layer") { Description = "attention: one layer" };
        var head = new Option<int?>("--head") { Description = "attention: one head of --layer" };
        var memory = new Option<long>("--memory-mb") { Description = "batched methods: memory budget in MB", DefaultValueFactory = _ => 1024 };
        var command = new Command("attribute", "Input attribution: scores of every preceding token for each target token.")
            { method, prompt, ids, target, generate, contrast, score, steps, rule, baseline, samples, noise, occlude, replacement, span, stride, layer, head, memory, words };
        m.AddTo(command);
        o.AddTo(command);
        m.Model.Required = false; // --method list needs no model
        command.SetAction(parse =>
        {
            string name = parse.GetValue(method)!;
            if (name == "list")
            {
                parse.InvocationConfiguration.Output.Write(AttributionMethods.Describe());
                return 0;
            }
            if (parse.GetValue(m.Model) is null) throw new GlassboxException("Option '--model' is required.");
            AttributionMethods.Create(name); // an unknown name fails before the model loads
            string? text = parse.GetValue(prompt), idText = parse.GetValue(ids);
            if ((text is null) == (idText is null)) throw new GlassboxException("Give exactly one of --prompt and --ids.");
            if (text is not null && string.IsNullOrWhiteSpace(text)) throw new GlassboxException("The prompt is empty.");
            if (parse.GetValue(target) is not null && parse.GetValue(generate) is not null) throw new GlassboxException("Give at most one of --target and --generate.");
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error, withTokenizer: true);
            using (model)
            {
                var promptIds = text is not null ? ModelOptions.Encode(tokenizer, text) : ModelOptions.ParseIds(idText!);
                if (promptIds.Length == 0) throw new GlassboxException("The prompt is empty: attribution needs at least one token.");
                model.CheckPromptLength(promptIds.Length);
                long? Token(string? piece, string what) => piece is null ? null : ModelOptions.SingleToken(tokenizer, piece, what);
                var options = new AttributionOptions
                {
                    Steps = parse.GetValue(steps),
                    Rule = ParseEnum<IntegrationRule>(parse.GetValue(rule)!, "--rule"),
                    BaselineToken = Token(parse.GetValue(baseline), "--baseline"),
                    Samples = parse.GetValue(samples),
                    NoiseLevel = parse.GetValue(noise),
                    Occlusion = ParseEnum<OcclusionMode>(parse.GetValue(occlude)!, "--occlude"),
                    ReplacementToken = Token(parse.GetValue(replacement), "--replacement"),
                    Span = parse.GetValue(span),
                    Stride = parse.GetValue(stride),
                    Layer = parse.GetValue(layer),
                    Head = parse.GetValue(head),
                    Budget = MemoryBudget.Megabytes(parse.GetValue(memory)),
                };
                var continuation = Continuation(model, tokenizer, promptIds, parse.GetValue(target), parse.GetValue(generate));
                var kind = parse.GetValue(score)!.ToLowerInvariant() switch
                {
                    "logit" => TargetKind.Logit,
                    "logprob" => TargetKind.LogProbability,
                    "prob" => TargetKind.Probability,
                    var s => throw new GlassboxException($"Unknown --score '{s}' (use logit, logprob or prob)."),
                };
                var template = new AttributionTarget(continuation[0], kind, Token(parse.GetValue(contrast), "--contrast"));
                Func<long, string> label = id => tokenizer?.Display((int)id) ?? id.ToString();
                var result = Attributor.Run(model, AttributionMethods.Create(name, options), promptIds, continuation, template, label);
                if (parse.GetValue(words)) result = result.AggregateWords(ModelOptions.RequireTokenizer(tokenizer, "--words"), [.. promptIds, .. continuation]);
                o.Emit(parse, result);
            }
            return 0;
        });
        return command;
    }

    /// <summary>The tokens to attribute: the given target text, a greedy continuation, or the model's top next token.</summary>
    static long[] Continuation(HookedTransformer model, ITokenizer? tokenizer, long[] prompt, string? target, int? generate)
    {
        if (target is not null)
        {
            var ids = ModelOptions.RequireTokenizer(tokenizer, "--target").InVocabulary(target, "--target").Select(i => (long)i).ToArray();
            if (ids.Length == 0) throw new GlassboxException("The --target text has no tokens.");
            return ids;
        }
        int count = generate ?? 1;
        if (count < 1) throw new GlassboxException($"--generate takes a positive number, got {count}.");
        var all = Generation.Generate(model, prompt, new GenerationOptions { MaxNewTokens = count, StopToken = null });
        return all[prompt.Length..];
    }

    static T ParseEnum<T>(string text, string what) where T : struct, Enum =>
        Enum.TryParse<T>(text.Replace("-", ""), ignoreCase: true, out var value) ? value
            : throw new GlassboxException($"Unknown {what} '{text}' (use {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}).");
}
