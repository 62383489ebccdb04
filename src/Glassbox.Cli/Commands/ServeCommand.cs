using System.CommandLine;
using Glassbox.Mechanisms;
using Glassbox.Web;

namespace Glassbox.Cli.Commands;

/// <summary><c>glassbox serve</c>: the local web viewer (src/Glassbox.Web) on one model, until Ctrl+C.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var port = new Option<int>("--port") { Description = "TCP port", DefaultValueFactory = _ => 8765 }.Between(0, 65535);
        var host = new Option<string>("--host") { Description = "address to bind; anything but loopback exposes the viewer to the network", DefaultValueFactory = _ => "127.0.0.1" };
        var token = new Option<string?>("--token") { Description = "secret every request must carry (?token=, a Bearer header or its cookie); required with a non-loopback --host" };
        var roots = new Option<string[]>("--root") { Description = "directory the model picker may load from (repeatable; default: the model's parent directory)", AllowMultipleArgumentsPerToken = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "longest prompt accepted, in tokens (capped by the model's context)", DefaultValueFactory = _ => 256 }.AtLeast(1);
        var tunedLens = new Option<string?>("--tuned-lens") { Description = "tuned lens for the model (from glassbox lens --save, or a tuned-lens directory): adds the tuned lens view" };
        var sae = new Option<string?>("--sae") { Description = "SAE for the model (a SAELens-layout directory): adds SAE features to the neuron page" };
        var mechanismSequences = new Option<int>("--mechanisms-sequences") { Description = "repeated random sequences the mechanisms view probes with", DefaultValueFactory = _ => new MechanismOptions().Sequences }.AtLeast(1);
        var command = new Command("serve", "Local web viewer: tokens, attention, lenses and more, in the browser.") { port, host, token, roots, maxTokens, tunedLens, sae, mechanismSequences };
        m.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var options = new ServerOptions
            {
                ModelPath = parse.GetValue(m.Model)!,
                TokenizerPath = parse.GetValue(m.Tokenizer),
                Device = ModelOptions.ParseDevice(parse.GetValue(m.Device)!),
                DType = ModelOptions.ParseDType(parse.GetValue(m.DType)!),
                Host = parse.GetValue(host)!,
                Token = parse.GetValue(token),
                Port = parse.GetValue(port),
                Roots = parse.GetValue(roots) ?? [],
                MaxTokens = parse.GetValue(maxTokens),
                TunedLensPath = parse.GetValue(tunedLens),
                SaePath = parse.GetValue(sae),
                Mechanisms = new MechanismOptions { Sequences = parse.GetValue(mechanismSequences) },
            };
            await using var server = await GlassboxServer.StartAsync(options, parse.InvocationConfiguration.Error, cancel);
            parse.InvocationConfiguration.Error.WriteLine("Press Ctrl+C to stop.");
            await server.WaitForShutdownAsync(cancel);
            return 0;
        });
        return command;
    }
}
