using System.CommandLine;
using System.Globalization;
using Glassbox.Loading;
using Glassbox.Probing;
using static TorchSharp.torch;

namespace Glassbox.Cli.Commands;

/// <summary>
/// <c>glassbox ablate</c>: the mean-difference direction between two prompt sets at a layer, projected out of every
/// residual-stream write (weight orthogonalisation, Arditi et al. 2024), saved as an ordinary checkpoint.
/// </summary>
public static class AblateCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var plus = new Option<string[]>("--plus") { Description = "a prompt with the concept (repeatable)", Required = true };
        var minus = new Option<string[]>("--minus") { Description = "a prompt without it (repeatable)", Required = true };
        var layer = new Option<int>("--layer") { Description = "read the direction at blocks.L.hook_resid_pre", Required = true };
        var position = new Option<int>("--position") { Description = "the position read (negative counts from the end)", DefaultValueFactory = _ => -1 };
        var output = new Option<string>("--out") { Description = "directory to write the orthogonalised model to", Required = true };
        var command = new Command("ablate", "Project a mean-difference direction out of the model's weights (directional ablation as a checkpoint).")
            { plus, minus, layer, position, output };
        m.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (tokenizer is null) throw new GlassboxException("ablate needs a tokenizer: pass --tokenizer PATH.");
                var positive = parse.GetValue(plus)!.Select(t => ModelOptions.Encode(tokenizer, t)).ToList();
                var negative = parse.GetValue(minus)!.Select(t => ModelOptions.Encode(tokenizer, t)).ToList();
                using var direction = MeanDifference.FromSets(model, positive, negative, parse.GetValue(layer), position: parse.GetValue(position));
                using var ablated = DirectionalAblation.Orthogonalize(model, direction.Vector);
                double before = LargestProjection(model, positive, direction.Vector), after = LargestProjection(ablated, positive, direction.Vector);
                ModelSaver.Save(ablated, parse.GetValue(output)!, tokenizer);
                parse.InvocationConfiguration.Output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "direction: {0} − {1} prompts at {2} (norm {3:F4}); largest |projection| of a residual on it over the --plus prompts: {4:F4} before, {5:G3} after; saved to {6}",
                    positive.Count, negative.Count, direction.HookName, direction.Vector.norm().to(ScalarType.Float64).item<double>(), before, after, parse.GetValue(output)));
            }
            return 0;
        });
        return command;
    }

    static double LargestProjection(Glassbox.Models.HookedTransformer model, IEnumerable<long[]> prompts, Tensor direction)
    {
        using var scope = NewDisposeScope();
        var unit = direction / direction.norm();
        return prompts.Max(p =>
        {
            var (_, cache) = model.RunWithCache(tensor(p).unsqueeze(0), "blocks.*.hook_resid_*");
            using (cache) return cache.Names.Max(n => matmul(cache[n], unit.to(cache[n].dtype)).abs().max().to(ScalarType.Float64).item<double>());
        });
    }
}
