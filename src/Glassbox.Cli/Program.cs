using Glassbox.Loading;
using Glassbox.Models;
using static TorchSharp.torch;
var (cfg, sd) = Llama2cCheckpoint.Load("/work/shared/models/stories260K/stories260K.bin");
using var model = new HookedTransformer(cfg, sd);
Console.WriteLine(cfg);
// vocab
var br = new BinaryReader(File.OpenRead("/work/shared/models/stories260K/tok512.bin"));
br.ReadInt32(); var vocab = new List<string>();
for (int i = 0; i < 512; i++) { br.ReadSingle(); int len = br.ReadInt32(); vocab.Add(System.Text.Encoding.UTF8.GetString(br.ReadBytes(len))); }
var ids = new List<long> { 1 };
var sw = System.Diagnostics.Stopwatch.StartNew();
for (int i = 0; i < 199; i++) {
  using var s = NewDisposeScope();
  var logits = model.Forward(tensor(ids.ToArray()));
  ids.Add(logits[0, -1].argmax().item<long>());
}
Console.WriteLine(sw.ElapsedMilliseconds + " ms");
var sb = new System.Text.StringBuilder();
for (int i = 1; i < ids.Count; i++) { var p = vocab[(int)ids[i]]; if (ids[i-1]==1 && p.StartsWith(" ")) p = p[1..]; if (p.StartsWith("<0x")) p = ((char)Convert.ToInt32(p[3..5],16)).ToString(); sb.Append(p); }
Console.WriteLine(sb);
