using Glassbox.Cli;

// glassbox: results on stdout, progress and timings on stderr; input errors are one clear line and exit code 2.
return CliRunner.Invoke(CliRunner.CreateRoot(), args);
