using System.Runtime.InteropServices;

namespace Glassbox.Bench.Harness;

/// <summary>Bytes currently allocated through glibc malloc (libtorch's CPU allocator uses it): in use in the heap plus mmapped chunks.</summary>
public static class NativeHeap
{
    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    static extern MallInfo2 MallInfo();

    /// <summary>Allocated bytes, or 0 where glibc's mallinfo2 is unavailable.</summary>
    public static long AllocatedBytes()
    {
        try
        {
            var m = MallInfo();
            return (long)(m.Uordblks + m.Hblkhd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return 0; }
    }
}
