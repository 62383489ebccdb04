using System.Security.Cryptography;
using Glassbox.Loading;
using Glassbox.Tests.Cli;
using Glassbox.Tests.Reference;
using TorchSharp;

namespace Glassbox.Tests.Loading;

/// <summary>A fake Hugging Face hub cache: blobs named by content hash, snapshots of symbolic links into them, refs/main.</summary>
public sealed class FakeHubCache : IDisposable
{
    readonly TempDirectory dir = new();

    public string Root => dir.Path;

    /// <summary>
    /// Adds <paramref name="checkpoint"/> as revision <paramref name="revision"/> of <paramref name="id"/>: each file a blob
    /// under blobs/ and a relative link to it in snapshots/{revision}/; refs/main names the revision when <paramref name="main"/>.
    /// Returns the snapshot directory.
    /// </summary>
    public string Add(string id, string revision, TinyCheckpoint checkpoint, bool main = true)
    {
        var repo = Path.Combine(Root, "models--" + id.Replace("/", "--"));
        var snapshot = Path.Combine(repo, "snapshots", revision);
        Directory.CreateDirectory(Path.Combine(repo, "blobs"));
        Directory.CreateDirectory(snapshot);
        using var staging = new TempDirectory();
        checkpoint.WriteTo(staging.Path);
        foreach (var file in Directory.GetFiles(staging.Path))
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
            var blob = Path.Combine(repo, "blobs", hash);
            if (!File.Exists(blob)) File.Copy(file, blob);
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", hash));
        }
        if (main)
        {
            Directory.CreateDirectory(Path.Combine(repo, "refs"));
            File.WriteAllText(Path.Combine(repo, "refs", "main"), revision);
        }
        return snapshot;
    }

    public void Dispose() => dir.Dispose();
}

public class HubCacheTests
{
    const string Id = "tiny-org/tiny-llama";
    static readonly long[] Tokens = [3, 17, 42, 5, 9, 60, 1];

    /// <summary>The logits of the model at <paramref name="path"/> on <see cref="Tokens"/>.</summary>
    static torch.Tensor Logits(string path)
    {
        using var model = ModelLoader.Load(path);
        using var tokens = torch.tensor(Tokens);
        return model.Forward(tokens);
    }

    [Fact]
    public void ASnapshotOfLinksIntoBlobsLoadsLikeTheDirectory()
    {
        using var cache = new FakeHubCache();
        var checkpoint = TinyCheckpoints.Llama();
        var snapshot = cache.Add(Id, "0123abcd", checkpoint);
        Assert.NotNull(new FileInfo(Path.Combine(snapshot, "model.safetensors")).LinkTarget);

        Assert.Equal(snapshot, HubCache.Resolve(Id, cache.Root));
        using var direct = new TempDirectory();
        checkpoint.WriteTo(direct.Path);
        using var expected = Logits(direct.Path);
        using var actual = Logits(HubCache.Resolve(Id, cache.Root));
        TensorAssert.BitEqual(expected, actual);
    }

    [Fact]
    public void RefsMainWinsOverANewerSnapshotAndWithoutItTheNewestIsTaken()
    {
        using var cache = new FakeHubCache();
        var main = cache.Add(Id, "aaaa1111", TinyCheckpoints.Llama(seed: 2));
        var newer = cache.Add(Id, "bbbb2222", TinyCheckpoints.Llama(seed: 3), main: false);
        Directory.SetLastWriteTimeUtc(main, DateTime.UtcNow.AddDays(-1));
        Directory.SetLastWriteTimeUtc(newer, DateTime.UtcNow);
        Assert.Equal(main, HubCache.Resolve(Id, cache.Root));

        File.Delete(Path.Combine(cache.Root, "models--tiny-org--tiny-llama", "refs", "main"));
        Assert.Equal(newer, HubCache.Resolve(Id, cache.Root));
    }

    [Fact]
    public void RefsMainNamingAMissingSnapshotFallsBackToTheOnlyOne()
    {
        using var cache = new FakeHubCache();
        var only = cache.Add(Id, "cccc3333", TinyCheckpoints.Llama());
        File.WriteAllText(Path.Combine(cache.Root, "models--tiny-org--tiny-llama", "refs", "main"), "ffff9999");
        Assert.Equal(only, HubCache.Resolve(Id, cache.Root));
    }

    [Fact]
    public void AModelNotInTheCacheIsAnErrorListingWhereItLooked()
    {
        using var cache = new FakeHubCache();
        cache.Add(Id, "0123abcd", TinyCheckpoints.Llama());
        var e = Assert.Throws<ModelFormatException>(() => HubCache.Resolve("tiny-org/absent", cache.Root));
        Assert.Contains("'tiny-org/absent'", e.Message);
        Assert.Contains(Path.Combine(cache.Root, "models--tiny-org--absent", "snapshots") + " (not there)", e.Message);
        Assert.Contains("never downloads", e.Message);

        Directory.CreateDirectory(Path.Combine(cache.Root, "models--tiny-org--empty", "snapshots"));
        var empty = Assert.Throws<ModelFormatException>(() => HubCache.Resolve("tiny-org/empty", cache.Root));
        Assert.Contains("(no snapshot in it)", empty.Message);
    }

    [Fact]
    public void ALinkToAMissingBlobIsAnIncompleteDownload()
    {
        using var cache = new FakeHubCache();
        var snapshot = cache.Add(Id, "0123abcd", TinyCheckpoints.Llama());
        var target = new FileInfo(Path.Combine(snapshot, "model.safetensors")).ResolveLinkTarget(returnFinalTarget: true)!;
        File.Delete(target.FullName);
        var e = Assert.Throws<ModelFormatException>(() => HubCache.Resolve(Id, cache.Root));
        Assert.Contains(Path.Combine(snapshot, "model.safetensors"), e.Message);
        Assert.Contains(target.FullName, e.Message);
        Assert.Contains("incomplete", e.Message);
    }

    [Theory]
    [InlineData("meta-llama/Llama-3.2-1B", true)]
    [InlineData("gpt2", true)]
    [InlineData("EleutherAI/pythia-70m-deduped", true)]
    [InlineData("/abs/path", false)]
    [InlineData("./model", false)]
    [InlineData("a/b/c", false)]
    [InlineData("../secret", false)]
    [InlineData("org/..", false)]
    [InlineData("org/", false)]
    [InlineData("", false)]
    public void HubIdsAreOneOrTwoNameSegments(string text, bool isId) => Assert.Equal(isId, HubCache.IsHubId(text));
}

/// <summary>Tests that set HF_HUB_CACHE / HF_HOME: run alone, so no parallel test sees the changed environment.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HubEnvironmentCollection
{
    public const string Name = "hub cache environment";
}

[Collection(HubEnvironmentCollection.Name)]
public class HubCacheCliTests
{
    const string Id = "tiny-org/tiny-llama";
    static readonly string[] Vars = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"];

    /// <summary>Runs <paramref name="body"/> with the hub variables set as given (others unset), restoring them after.</summary>
    static void WithEnvironment(Dictionary<string, string> set, Action body)
    {
        var saved = Vars.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var v in Vars) Environment.SetEnvironmentVariable(v, set.GetValueOrDefault(v));
            body();
        }
        finally
        {
            foreach (var (v, value) in saved) Environment.SetEnvironmentVariable(v, value);
        }
    }

    static string Score(string model)
    {
        var (exit, stdout, stderr) = CliHarness.Run("score", "--model", model, "--ids", "3,17,42,5,9", "--json");
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        return stdout[stdout.IndexOf('{')..];
    }

    [Fact]
    public void ModelOrgNameScoresTheCachedSnapshotUnderHfHubCacheOrHfHome()
    {
        using var home = new TempDirectory();
        using var cache = new FakeHubCache();
        var snapshot = cache.Add(Id, "0123abcd", TinyCheckpoints.Llama());
        string expected = Score(snapshot);

        WithEnvironment(new() { ["HF_HUB_CACHE"] = cache.Root }, () => Assert.Equal(expected, Score(Id)));

        // $HF_HOME/hub, the same cache moved under a home directory.
        Directory.Move(cache.Root, home.Combine("hub"));
        try { WithEnvironment(new() { ["HF_HOME"] = home.Path }, () => Assert.Equal(expected, Score(Id))); }
        finally { Directory.Move(home.Combine("hub"), cache.Root); }
    }

    [Fact]
    public void APathOnDiskWinsOverTheSameHubId()
    {
        using var cache = new FakeHubCache();
        var relative = $"glassbox-hub-test-{Guid.NewGuid():N}/tiny";
        cache.Add(relative, "0123abcd", TinyCheckpoints.Llama(seed: 2));
        var onDisk = Path.GetFullPath(relative);
        try
        {
            TinyCheckpoints.Llama(seed: 3).WriteTo(Directory.CreateDirectory(onDisk).FullName);
            string fromDisk = Score(onDisk);
            WithEnvironment(new() { ["HF_HUB_CACHE"] = cache.Root }, () => Assert.Equal(fromDisk, Score(relative)));
        }
        finally { Directory.Delete(Path.GetDirectoryName(onDisk)!, recursive: true); }
    }

    [Fact]
    public void AnAbsentHubModelIsExitTwoListingEveryPlaceLooked()
    {
        using var cache = new FakeHubCache();
        WithEnvironment(new() { ["HF_HUB_CACHE"] = cache.Root }, () =>
        {
            var (exit, _, stderr) = CliHarness.Run("score", "--model", "tiny-org/absent", "--ids", "1,2");
            Assert.Equal(2, exit);
            Assert.StartsWith("error: ", stderr);
            Assert.Contains($"{Path.GetFullPath("tiny-org/absent")} (no such file or directory)", stderr);
            Assert.Contains($"{Path.Combine(cache.Root, "models--tiny-org--absent", "snapshots")} (not there)", stderr);
            Assert.Contains("$HF_HUB_CACHE", stderr);
        });
    }

    [Fact]
    public void TheTokenizerIsFoundInTheSnapshot()
    {
        using var cache = new FakeHubCache();
        var snapshot = cache.Add(Id, "0123abcd", TinyCheckpoints.Llama(vocab: 256));
        Glassbox.Tests.Families.HfReferences.ZooTokenizer(snapshot);
        WithEnvironment(new() { ["HF_HUB_CACHE"] = cache.Root }, () =>
        {
            using var model = ModelLoader.Load(Id);
            var tokenizer = ModelLoader.FindTokenizer(Id, model.Config);
            Assert.NotNull(tokenizer);
            Assert.Equal(256, tokenizer.VocabSize);
            Assert.Equal("the cat", tokenizer.Decode(tokenizer.Encode("the cat")));
            Assert.Single(tokenizer.Encode("cat", addBos: false));
        });
    }

    [Fact]
    public void TheViewersModelPickerTakesACachedHubIdButNoOtherOutsidePath()
    {
        using var roots = new TempDirectory();
        using var cache = new FakeHubCache();
        var snapshot = cache.Add(Id, "0123abcd", TinyCheckpoints.Llama());
        WithEnvironment(new() { ["HF_HUB_CACHE"] = cache.Root }, () =>
        {
            var picker = new Glassbox.Web.ModelRoots([roots.Path]);
            Assert.Equal(snapshot, picker.Check(Id));
            Assert.Equal(404, Assert.Throws<Glassbox.Web.ApiException>(() => picker.Check("tiny-org/absent")).Status);
            Assert.Equal(403, Assert.Throws<Glassbox.Web.ApiException>(() => picker.Check(cache.Root)).Status);
        });
    }
}
