using System.CommandLine;
using Glassbox.Training;
using Glassbox.Training.Recipes;
using Spectre.Console;

namespace Glassbox.Cli.Commands;

public static class TrainCommand
{
    public static Command Create()
    {
        var recipe = new Option<string?>("--recipe") { Description = "attn-only-2l, ioi-gpt2-4l or ioi-llama-4l" };
        var config = new Option<string?>("--config") { Description = "a JSON training config: any architecture on a text corpus or a recipe's data (see docs/train-config.example.json)" };
        var output = new Option<string?>("--out") { Description = "directory to write the trained model to (HF layout + training.json)" };
        var steps = new Option<int?>("--steps") { Description = "training steps (default: the recipe's)" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var command = new Command("train", "Train a zoo model from a recipe (or any model from --config), report its metrics, and save it.") { recipe, config, output, steps, seed };
        command.SetAction(parse =>
        {
            var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Error) });
            if ((parse.GetValue(recipe) is null) == (parse.GetValue(config) is null)) throw new GlassboxException("Give exactly one of --recipe and --config.");
            if (parse.GetValue(config) is string configPath) return TrainFromConfig(configPath, parse.GetValue(output), parse.InvocationConfiguration.Output, err);
            var r = RecipeCatalog.Get(parse.GetValue(recipe)!);
            (Glassbox.Models.HookedTransformer Model, Glassbox.Tokenization.ITokenizer Tokenizer, ZooRun Run)? trained = null;
            err.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(r.Name, maxValue: parse.GetValue(steps) ?? r.DefaultSteps);
                    var progress = new SynchronousProgress<TrainingProgress>(p =>
                    {
                        task.Value = p.Step;
                        task.Description = $"{r.Name} loss {p.Loss:F3}{(p.EvalLoss is double e ? $" eval {e:F3}" : "")} {p.TokensPerSecond:F0} tok/s";
                    });
                    trained = ZooTraining.Train(r, parse.GetValue(steps), parse.GetValue(seed), progress);
                });
            var (model, tokenizer, run) = trained!.Value;
            using (model)
            {
                var stdout = parse.InvocationConfiguration.Output;
                stdout.WriteLine($"{run.Recipe}: {run.Steps} steps, seed {run.Seed}, final loss {run.Training.FinalLoss:F4}, eval loss {run.Training.FinalEvalLoss:F4}, " +
                                 $"{run.Training.TokensPerSecond:F0} tokens/s, {run.Training.Elapsed.TotalSeconds:F0} s");
                foreach (var (name, value) in run.Metrics) stdout.WriteLine($"  {name} = {value:F4}");
                if (parse.GetValue(output) is string dir)
                {
                    var cmd = $"glassbox train --recipe {run.Recipe} --steps {run.Steps} --seed {run.Seed} --out {dir}";
                    ZooTraining.Save(model, tokenizer, run, dir, cmd);
                    stdout.WriteLine($"saved to {dir}");
                }
            }
            return 0;
        });
        return command;
    }

    static int TrainFromConfig(string path, string? dir, TextWriter stdout, IAnsiConsole err)
    {
        var spec = ConfigTraining.Load(path);
        (Glassbox.Models.HookedTransformer Model, TrainingResult Result)? trained = null;
        err.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(spec.Model.Architecture, maxValue: spec.Options.Steps);
                trained = ConfigTraining.Train(spec, new SynchronousProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = $"loss {p.Loss:F3}{(p.EvalLoss is double e ? $" eval {e:F3}" : "")} {p.TokensPerSecond:F0} tok/s";
                }));
            });
        var (model, result) = trained!.Value;
        using (model)
        {
            stdout.WriteLine($"{spec.Model}");
            stdout.WriteLine($"{spec.Options.Steps} steps, final loss {result.FinalLoss:F4}, eval loss {result.FinalEvalLoss:F4}, {result.TokensPerSecond:F0} tokens/s, {result.Elapsed.TotalSeconds:F0} s");
            if (dir is not null)
            {
                Glassbox.Loading.ModelSaver.Save(model, dir, spec.Tokenizer);
                stdout.WriteLine($"saved to {dir}");
            }
        }
        return 0;
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and lag behind).</summary>
    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
