using Glassbox.Cli;

namespace Glassbox.Tests.Cli;

/// <summary>Runs the glassbox command line in-process, capturing stdout and stderr separately.</summary>
public static class CliHarness
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = CliRunner.Invoke(CliRunner.CreateRoot(), args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
