using System.CommandLine;
using Glassbox.Lens;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox patchscope</c>: decode a hidden state of a source prompt by patching it into a target prompt (the identity prompt by default).</summary>
public static class PatchscopeCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var output = new OutputOptions();
        var source = new Option<string>("--source") { Description = "source prompt", Required = true };
        var sourceLayer = new Option<int>("--source-layer") { Description = "read blocks.L.hook_resid_pre of the source", Required = true };
        var sourcePosition = new Option<int>("--source-position") { Description = "source position (negative counts from the end)", DefaultValueFactory = _ => -1 };
        var target = new Option<string>("--target") { Description = "target prompt", DefaultValueFactory = _ => Patchscope.IdentityPrompt };
        var targetLayer = new Option<int?>("--target-layer") { Description = "write blocks.L.hook_resid_pre of the target (n_layers: the final residual); default: the source layer" };
        var targetPosition = new Option<int>("--target-position") { Description = "target position (negative counts from the end)", DefaultValueFactory = _ => -1 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "greedy tokens to generate", DefaultValueFactory = _ => 8 };
        var top = new Option<int>("--top") { Description = "top-k tokens shown", DefaultValueFactory = _ => 5 };
        var command = new Command("patchscope", "Patch a source hidden state into a target prompt and read what it decodes to.")
            { source, sourceLayer, sourcePosition, target, targetLayer, targetPosition, maxNew, top };
        m.AddTo(command);
        output.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (tokenizer is null) throw new GlassboxException("patchscope needs a tokenizer: pass --tokenizer PATH.");
                var options = new PatchscopeOptions
                {
                    SourceLayer = parse.GetValue(sourceLayer), SourcePosition = parse.GetValue(sourcePosition),
                    TargetLayer = parse.GetValue(targetLayer), TargetPosition = parse.GetValue(targetPosition),
                    MaxNewTokens = parse.GetValue(maxNew), TopK = parse.GetValue(top),
                };
                output.Emit(parse, Patchscope.Run(model, ModelOptions.Encode(tokenizer, parse.GetValue(source)!), ModelOptions.Encode(tokenizer, parse.GetValue(target)!),
                    options, tokenizer.Display, tokenizer.Decode));
            }
            return 0;
        });
        return command;
    }
}
