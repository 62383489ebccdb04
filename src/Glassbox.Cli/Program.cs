using System.CommandLine;
using Glassbox.Cli;
using Glassbox.Cli.Commands;

// glassbox: results on stdout, progress and timings on stderr; input errors are one clear line and exit code 2.
var root = new RootCommand("Glassbox: look inside Transformer language models.")
{
    GenerateCommand.Create(),
    ScoreCommand.Create(),
    InfoCommand.Create(),
    CacheCommand.Create(),
};
return CliRunner.Invoke(root, args);
