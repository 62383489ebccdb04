using System.CommandLine;
using System.CommandLine.Parsing;
using System.Numerics;

namespace Glassbox.Cli.Commands;

/// <summary>
/// Range checks attached to numeric options, so that a count of 0 or a NaN threshold is a parse error naming the option
/// instead of an index failure or a silently empty result deep inside a technique.
/// </summary>
public static class OptionRules
{
    /// <summary>A number of at least <paramref name="min"/>; for floating-point options NaN and infinities are refused too.</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T min) where T : struct, INumber<T>
    {
        option.Validators.Add(r => Check(r, option.Name, r.GetValueOrDefault<T>(), min));
        return option;
    }

    public static Option<T?> AtLeast<T>(this Option<T?> option, T min) where T : struct, INumber<T>
    {
        option.Validators.Add(r => { if (r.GetValueOrDefault<T?>() is T v) Check(r, option.Name, v, min); });
        return option;
    }

    public static Option<int> Between(this Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < min || v > max) r.AddError($"{option.Name} must be between {min} and {max}, got {v}.");
        });
        return option;
    }

    /// <summary>A share strictly between 0 and 1, such as the held-out part of a split.</summary>
    public static Option<double> Fraction(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v < 1)) r.AddError($"{option.Name} must lie strictly between 0 and 1, got {v}.");
        });
        return option;
    }

    static void Check<T>(OptionResult r, string name, T value, T min) where T : INumber<T>
    {
        if (!T.IsFinite(value)) r.AddError($"{name} must be a finite number, got {value}.");
        else if (value < min) r.AddError($"{name} must be at least {min}, got {value}.");
    }
}
