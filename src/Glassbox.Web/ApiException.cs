namespace Glassbox.Web;

/// <summary>A request the API refuses, with the HTTP status and the message the client sees as <c>{"error": ...}</c>.</summary>
public sealed class ApiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
