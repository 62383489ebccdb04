namespace Glassbox.Tests.Web;

/// <summary>
/// A test that drives Debian's chromium through Playwright. Where chromium is absent (a user's machine) it is
/// skipped with the command that installs it; under CI (CI=true, where .ci/run installs chromium) it always runs.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("GLASSBOX_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(ChromiumPath) && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"chromium not found at {ChromiumPath}: install it (sudo apt-get install chromium) or set GLASSBOX_CHROMIUM to run the browser tests";
    }
}
