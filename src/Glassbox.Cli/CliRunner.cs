using System.CommandLine;
using Glassbox.Cli.Commands;

namespace Glassbox.Cli;

/// <summary>Runs a parsed command, turning input errors into one line on stderr instead of a stack trace.</summary>
public static class CliRunner
{
    public const int InputError = 2;

    public static RootCommand CreateRoot() => new("Glassbox: look inside Transformer language models.")
    {
        GenerateCommand.Create(),
        ScoreCommand.Create(),
        InfoCommand.Create(),
        CacheCommand.Create(),
        TrainCommand.Create(),
        InspectCommand.Create(),
        ServeCommand.Create(),
        LensCommand.Create(),
        ProbeCommand.Create(),
        SteerCommand.Create(),
        AblateCommand.Create(),
        PatchscopeCommand.Create(),
        AttributeCommand.Create(),
        FlowCommand.Create(),
        SaeCommand.Create(),
        NeuronsCommand.Create(),
        WeightsCommand.Create(),
        MechanismsCommand.Create(),
        DlaCommand.Create(),
        PatchCommand.Create(),
        KnockoutCommand.Create(),
        CircuitCommand.Create(),
    };

    public static int Invoke(RootCommand root, string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var errors = stderr ?? Console.Error;
        // libtorch's intra-op threads spin while waiting; on a busy machine fewer threads run faster.
        if (int.TryParse(Environment.GetEnvironmentVariable("GLASSBOX_THREADS"), out int threads) && threads > 0)
            TorchSharp.torch.set_num_threads(threads);
        var config = new InvocationConfiguration { Output = output, Error = errors, EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (GlassboxException e)
        {
            errors.WriteLine($"error: {e.Message}");
            return InputError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            errors.WriteLine($"error: {e.Message}");
            return InputError;
        }
    }
}
