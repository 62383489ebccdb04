using System.CommandLine;
using Glassbox.Lens;
using Glassbox.Tokenization;
using static TorchSharp.torch;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox lens</c>: the logit lens or a tuned lens over one prompt (every layer × position), a tuned lens loaded
/// from a file or trained on a text corpus (held-out KL against the logit lens goes to stderr).
/// </summary>
public static class LensCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var output = new OutputOptions();
        var prompt = new Option<string?>("--prompt") { Description = "text to read (the tokenizer's BOS rule applies)" };
        var ids = new Option<string?>("--ids") { Description = "comma-separated token ids, fed as given" };
        var method = new Option<string>("--method") { Description = "logit or tuned", DefaultValueFactory = _ => "logit" };
        var lensFile = new Option<string?>("--lens") { Description = "tuned lens to load (Glassbox .safetensors, or a tuned-lens directory with params.safetensors)" };
        var corpus = new Option<string?>("--corpus") { Description = "train a tuned lens on this text file (first 48 windows train, next 16 are held out)" };
        var steps = new Option<int>("--steps") { Description = "tuned-lens training steps", DefaultValueFactory = _ => 300 }.AtLeast(1);
        var window = new Option<int>("--window") { Description = "tokens per training window", DefaultValueFactory = _ => 64 }.AtLeast(2);
        var save = new Option<string?>("--save") { Description = "write the trained tuned lens here (.safetensors)" };
        var target = new Option<string?>("--target") { Description = "a word (one token) whose probability and rank every cell reports" };
        var top = new Option<int>("--top") { Description = "top-k tokens per cell", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var optimizer = new Option<string>("--optimizer") { Description = "tuned-lens training: adamw (lr 1e-2) or sgd (Nesterov μ 0.9, lr 1, as the paper)", DefaultValueFactory = _ => "adamw" };
        var components = new Option<bool>("--components") { Description = "also decode each block's attention and MLP outputs (logit lens)" };
        var command = new Command("lens", "Logit or tuned lens: what every layer predicts at every position.")
            { prompt, ids, method, lensFile, corpus, steps, window, save, target, top, components, optimizer };
        m.AddTo(command);
        output.AddTo(command);
        command.SetAction(parse =>
        {
            string? text = parse.GetValue(prompt), idText = parse.GetValue(ids);
            if ((text is null) == (idText is null)) throw new GlassboxException("Give exactly one of --prompt and --ids.");
            string kind = parse.GetValue(method)!;
            if (kind is not ("logit" or "tuned")) throw new GlassboxException($"Unknown lens method '{kind}' (use logit or tuned).");
            if (kind == "tuned" && (parse.GetValue(lensFile) is null) == (parse.GetValue(corpus) is null))
                throw new GlassboxException("The tuned lens needs exactly one of --lens FILE and --corpus FILE.");
            var training = Training(parse.GetValue(steps), parse.GetValue(optimizer)!);
            var log = parse.InvocationConfiguration.Error;
            var (model, tokenizer) = m.Load(parse, log);
            using (model)
            {
                var tokens = text is not null ? ModelOptions.Encode(tokenizer, text) : ModelOptions.ParseIds(idText!);
                var options = new LensOptions
                {
                    TopK = parse.GetValue(top), Components = parse.GetValue(components),
                    Target = parse.GetValue(target) is { } word ? ModelOptions.SingleToken(tokenizer, word, "--target") : null,
                    Show = tokenizer is null ? null : tokenizer.Display,
                };
                using var scope = NewDisposeScope();
                var input = tensor(tokens);
                if (kind == "logit")
                {
                    output.Emit(parse, LogitLens.Run(model, input, options));
                    return 0;
                }
                using var lens = parse.GetValue(lensFile) is { } file ? LoadLens(file, model.W_E.device) : TrainLens(parse, model, tokenizer, parse.GetValue(corpus)!,
                    parse.GetValue(window), training, log);
                if (parse.GetValue(save) is { } path)
                {
                    lens.Save(path);
                    log.WriteLine($"wrote {path}");
                }
                output.Emit(parse, lens.Run(model, input, options));
            }
            return 0;
        });
        return command;
    }

    static TunedLens LoadLens(string path, Device device) =>
        Directory.Exists(path) ? TunedLens.LoadTunedLensLayout(path, device) : TunedLens.Load(path, device);

    static TunedLensTraining Training(int steps, string optimizer) => optimizer.ToLowerInvariant() switch
    {
        "adamw" => new TunedLensTraining { Steps = steps },
        "sgd" => new TunedLensTraining { Steps = steps, Optimizer = TunedLensOptimizer.SgdNesterov, LearningRate = 1.0 },
        _ => throw new GlassboxException($"Unknown optimizer '{optimizer}' (use adamw or sgd)."),
    };

    static TunedLens TrainLens(ParseResult parse, Models.HookedTransformer model, ITokenizer? tokenizer, string corpusPath, int window, TunedLensTraining training, TextWriter log)
    {
        if (!File.Exists(corpusPath)) throw new GlassboxException($"The corpus {corpusPath} does not exist.");
        // Tokenise only what 64 windows can use (sub-word tokens average well under 8 characters).
        var text = File.ReadAllText(corpusPath);
        var corpusIds = ModelOptions.Encode(tokenizer, text[..Math.Min(text.Length, 64 * window * 8)]).Select(i => (int)i).ToArray();
        using var train = tensor(TunedLensTraining.Windows(corpusIds, window, 48));
        using var heldOut = tensor(TunedLensTraining.Windows(corpusIds, window, 16, skip: 48));
        var lens = TunedLens.Train(model, train, training, log.WriteLine);
        log.Write(lens.Compare(model, heldOut).ToText());
        return lens;
    }
}
