using System.Diagnostics;

namespace WorldBridge.Core
{
    /// <summary>A monotonic clock in microseconds (Stopwatch-based; not wall-clock time).</summary>
    public static class MonotonicClock
    {
        /// <summary>Microseconds since an arbitrary fixed point; never goes backwards.</summary>
        public static long NowMicros()
        {
            long ticks = Stopwatch.GetTimestamp();
            return (long)(ticks * (1000000.0 / Stopwatch.Frequency));
        }
    }
}
