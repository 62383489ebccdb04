using System.CommandLine;
using Glassbox.Features;
using Glassbox.Sae;
using Spectre.Console;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox sae train|eval|features</c>: sparse autoencoders on any hook of any model.</summary>
public static class SaeCommand
{
    /// <summary>Held-out evaluation data: another sample seed, or the corpus's last windows.</summary>
    const int HeldOut = 1_000_003;

    public static Command Create() => new("sae", "Sparse autoencoders: train one on a hook, evaluate it spliced in, show its features.")
    {
        Train(), Eval(), SaeFeaturesCommand.Create(),
    };

    static Command Train()
    {
        var m = new ModelOptions();
        var corpus = new CorpusOptions();
        var hook = new Option<string>("--hook") { Description = "hook point the SAE reads, e.g. blocks.2.hook_resid_post", Required = true };
        var target = new Option<string?>("--target-hook") { Description = "train a transcoder: reconstruct this hook's activation instead" };
        var arch = new Option<string>("--arch") { Description = "standard, topk, batchtopk, jumprelu or gated", DefaultValueFactory = _ => "topk" };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 16 };
        var dSae = new Option<int>("--d-sae") { Description = "number of latents", Required = true };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch-tokens") { DefaultValueFactory = _ => 4096 }.AtLeast(1);
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 3e-4 }.AtLeast(0.0);
        var sparsity = new Option<double>("--sparsity") { Description = "λ of the L1 (standard, gated) or L0 (jumprelu) penalty", DefaultValueFactory = _ => 5.0 }.AtLeast(0.0);
        var initThreshold = new Option<double>("--init-threshold") { Description = "JumpReLU starting threshold θ₀ (also a resampled latent's)", DefaultValueFactory = _ => new SaeConfig().JumpReluInitThreshold };
        var bandwidth = new Option<double>("--bandwidth") { Description = "JumpReLU straight-through bandwidth ε", DefaultValueFactory = _ => 1e-3 }.AtLeast(0.0);
        var deadTokens = new Option<long>("--dead-tokens") { Description = "a latent silent for this many tokens is dead", DefaultValueFactory = _ => 1_000_000 };
        var resampleEvery = new Option<int>("--resample-every") { Description = "every N steps re-initialise latents silent over those steps toward badly reconstructed inputs (0: never)", DefaultValueFactory = _ => 0 };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "cache activations here in safetensors chunks (resumable)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 0 }.AtLeast(0);
        var evalSequences = new Option<int>("--eval-sequences") { Description = "held-out sequences to evaluate on after training (0: none)", DefaultValueFactory = _ => 64 }.AtLeast(0);
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "directory to save the SAE to (SAELens layout)", Required = true };
        var command = new Command("train", "Train an SAE (or transcoder) on a hook's activations over a corpus and save it in SAELens's layout.")
        { hook, target, arch, k, dSae, steps, batch, lr, sparsity, initThreshold, bandwidth, deadTokens, resampleEvery, cacheDir, checkpointEvery, evalSequences, seed, output };
        m.AddTo(command);
        corpus.AddTo(command);
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var log = parse.InvocationConfiguration.Error;
            var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(log) });
            var (model, tokenizer) = m.Load(parse, log);
            using (model)
            {
                var started = System.Diagnostics.Stopwatch.StartNew();
                var (sequences, description) = corpus.Load(parse, model, tokenizer);
                log.WriteLine($"corpus: {sequences.Count} sequences × {corpus.SequenceLength(parse, model)} tokens, {description} ({started.Elapsed.TotalSeconds:F0} s)");
                var config = new SaeConfig
                {
                    Architecture = SaeConfig.Parse(parse.GetValue(arch)!), DIn = model.Config.DModel, DSae = parse.GetValue(dSae), K = parse.GetValue(k), JumpReluInitThreshold = parse.GetValue(initThreshold),
                    HookName = parse.GetValue(hook)!, TargetHookName = parse.GetValue(target), ApplyBDecToInput = parse.GetValue(target) is null,
                    ModelName = Path.GetFileName(Path.TrimEndingDirectorySeparator(parse.GetValue(m.Model)!)),
                    ContextSize = corpus.SequenceLength(parse, model), DatasetPath = description,
                };
                using var store = new ActivationStore(model, config.HookName, config.TargetHookName, sequences,
                    new ActivationStoreOptions { CacheDirectory = parse.GetValue(cacheDir), Seed = parse.GetValue(seed) });
                config = config with { DIn = store.InputWidth };
                var options = new SaeTrainingOptions
                {
                    Steps = parse.GetValue(steps), BatchTokens = parse.GetValue(batch), LearningRate = parse.GetValue(lr), SparsityCoefficient = parse.GetValue(sparsity),
                    JumpReluBandwidth = parse.GetValue(bandwidth), DeadTokens = parse.GetValue(deadTokens), ResampleEvery = parse.GetValue(resampleEvery), Seed = parse.GetValue(seed),
                    CheckpointEvery = parse.GetValue(checkpointEvery), CheckpointDirectory = parse.GetValue(output),
                };
                (SparseAutoencoder Sae, SaeTrainingResult Result)? trained = null;
                err.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var activations = ctx.AddTask("activations", maxValue: store.ChunkCount);
                        store.Progress = new CallbackProgress<ActivationStoreProgress>(p =>
                        {
                            activations.Value = Math.Max(activations.Value, p.Chunk);
                            activations.Description = $"activations: chunk {p.Chunk}/{p.Chunks}{(p.FromCache ? " (cached)" : "")}";
                        });
                        var task = ctx.AddTask("sae", maxValue: options.Steps);
                        trained = SaeTrainer.Train(config, store, options, new CallbackProgress<SaeTrainingProgress>(p =>
                        {
                            task.Value = p.Step;
                            task.Description = $"FVU {p.Fvu:F3} L0 {p.L0:F1} dead {p.DeadFraction:P0} {p.TokensPerSecond:F0} tok/s";
                        }));
                    });
                var (sae, result) = trained!.Value;
                using (sae)
                {
                    SaeFiles.Save(sae, parse.GetValue(output)!);
                    var f = result.Final;
                    stdout.WriteLine($"{SaeConfig.Name(config.Architecture)} SAE, d_sae {config.DSae}, at {config.HookName}: {f.Step} steps, {result.Tokens:N0} tokens in {result.Elapsed.TotalSeconds:F0} s " +
                                     $"({result.TokensPerSecond:F0} tokens/s); last batch FVU {f.Fvu:F4}, L0 {f.L0:F1}, dead {f.DeadFraction:P1}" +
                                     (options.ResampleEvery > 0 ? $"; {result.Resampled} latents resampled" : ""));
                    stdout.WriteLine($"saved to {parse.GetValue(output)}");
                    if (parse.GetValue(evalSequences) is int n && n > 0)
                    {
                        var heldOut = corpus.Load(parse, model, tokenizer, HeldOut).Sequences.Take(n).ToList();
                        stdout.Write(SaeEvaluation.Run(model, sae, heldOut).ToText());
                    }
                }
            }
            return 0;
        });
        return command;
    }

    static Command Eval()
    {
        var m = new ModelOptions();
        var corpus = new CorpusOptions();
        var o = new OutputOptions();
        var saeDir = new Option<string>("--sae") { Description = "SAE directory (cfg.json + sae_weights.safetensors)", Required = true };
        var keepBos = new Option<bool>("--include-bos") { Description = "splice and score position 0 too" };
        var command = new Command("eval", "Evaluate an SAE spliced into the model: L0, MSE, FVU, CE loss recovered, KL, dead/dense latents, density histogram.") { saeDir, keepBos };
        m.AddTo(command);
        corpus.AddTo(command);
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            using (var sae = SaeFiles.Load(parse.GetValue(saeDir)!, model.Device, model.DType))
            {
                var (sequences, _) = corpus.Load(parse, model, tokenizer, HeldOut);
                o.Emit(parse, SaeEvaluation.Run(model, sae, sequences, skipFirstPosition: !parse.GetValue(keepBos)));
            }
            return 0;
        });
        return command;
    }
}

/// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and lag behind).</summary>
public sealed class CallbackProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
