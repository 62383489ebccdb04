return Glassbox.Bench.BenchRunner.Run(args, Console.Out, Console.Error);
