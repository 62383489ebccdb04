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
        var sourceLayer = new Option<int?>("--source-layer") { Description = "read blocks.L.hook_resid_pre of the source (required unless --sweep)" };
        var sourcePosition = new Option<int>("--source-position") { Description = "source position (negative counts from the end)", DefaultValueFactory = _ => -1 };
        var target = new Option<string>("--target") { Description = "target prompt", DefaultValueFactory = _ => Patchscope.IdentityPrompt };
        var targetLayer = new Option<int?>("--target-layer") { Description = "write blocks.L.hook_resid_pre of the target (n_layers: the final residual); default: the source layer" };
        var targetPosition = new Option<int>("--target-position") { Description = "target position (negative counts from the end)", DefaultValueFactory = _ => -1 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "greedy tokens to generate", DefaultValueFactory = _ => 8 }.AtLeast(0);
        var top = new Option<int>("--top") { Description = "top-k tokens shown", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var sweep = new Option<string?>("--sweep") { Description = "every source layer × target layer: the probability of this word (one token) and each run's top token" };
        var command = new Command("patchscope", "Patch a source hidden state into a target prompt and read what it decodes to.")
            { source, sourceLayer, sourcePosition, target, targetLayer, targetPosition, maxNew, top, sweep };
        m.AddTo(command);
        output.AddTo(command);
        command.SetAction(parse =>
        {
            var (model, tokenizer) = m.Load(parse, parse.InvocationConfiguration.Error);
            using (model)
            {
                if (tokenizer is null) throw new GlassboxException("patchscope needs a tokenizer: pass --tokenizer PATH.");
                var sourceIds = ModelOptions.Encode(tokenizer, parse.GetValue(source)!);
                var targetIds = ModelOptions.Encode(tokenizer, parse.GetValue(target)!);
                if (parse.GetValue(sweep) is { } word)
                {
                    output.Emit(parse, PatchscopeSweep.Run(model, sourceIds, targetIds, ModelOptions.SingleToken(tokenizer, word, "--sweep"),
                        parse.GetValue(sourcePosition), parse.GetValue(targetPosition), tokenizer.Display));
                    return 0;
                }
                var options = new PatchscopeOptions
                {
                    SourceLayer = parse.GetValue(sourceLayer) ?? throw new GlassboxException("patchscope needs --source-layer (or --sweep WORD for every layer)."),
                    SourcePosition = parse.GetValue(sourcePosition),
                    TargetLayer = parse.GetValue(targetLayer), TargetPosition = parse.GetValue(targetPosition),
                    MaxNewTokens = parse.GetValue(maxNew), TopK = parse.GetValue(top),
                };
                output.Emit(parse, Patchscope.Run(model, sourceIds, targetIds, options, tokenizer.Display, tokenizer.Decode));
            }
            return 0;
        });
        return command;
    }
}
