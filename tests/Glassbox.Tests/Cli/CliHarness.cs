using System.CommandLine;
using Glassbox.Cli;
using Glassbox.Cli.Commands;

namespace Glassbox.Tests.Cli;

/// <summary>Runs the glassbox command line in-process, capturing stdout and stderr separately.</summary>
public static class CliHarness
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand { GenerateCommand.Create(), ScoreCommand.Create(), InfoCommand.Create(), CacheCommand.Create() };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = CliRunner.Invoke(root, args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
