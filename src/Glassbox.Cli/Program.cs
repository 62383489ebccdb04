System.Console.WriteLine("glassbox: not yet");
