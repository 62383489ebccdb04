using System.CommandLine;
using System.CommandLine.Parsing;
using Glassbox.Cli.Commands;

namespace Glassbox.Cli;

/// <summary>Runs a parsed command, turning input errors into one line on stderr instead of a stack trace.</summary>
public static class CliRunner
{
    public const int InputError = 2;
    public const int InternalError = 3;

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

    static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var r = parsed.CommandResult; r.Command is not RootCommand && r.Parent is CommandResult parent; r = parent) names.Insert(0, r.Command.Name);
        return string.Join(' ', names.Prepend("glassbox"));
    }

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
            var parsed = root.Parse(args);
            if (parsed.Errors.Count == 0) return parsed.Invoke(config);
            // A malformed command line is an input error like any other: one line each, exit 2, and where to look.
            foreach (var error in parsed.Errors) errors.WriteLine($"error: {error.Message}");
            errors.WriteLine($"Run '{CommandPath(parsed)} --help' for usage.");
            return InputError;
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
        catch (Exception e) when (Environment.GetEnvironmentVariable("GLASSBOX_DEBUG") != "1")
        {
            // Input checks should have caught it, so it is our bug; one line beats a stack trace for the user.
            errors.WriteLine($"internal error: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            errors.WriteLine("This is a Glassbox bug: please report it with the command line (GLASSBOX_DEBUG=1 shows the stack trace).");
            return InternalError;
        }
    }
}
