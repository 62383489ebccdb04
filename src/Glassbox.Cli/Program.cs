System.Console.WriteLine(Glassbox.Probe.Run());
