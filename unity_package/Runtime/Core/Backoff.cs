using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// Exponential reconnect delays: min(max, initial * multiplier^attempt), optionally
    /// spread by +/- <c>jitter</c> (a fraction) with an injected random source.
    /// </summary>
    public sealed class Backoff
    {
        private readonly Random _random;
        private readonly object _lock = new object();
        private int _attempt;

        /// <summary>Creates a policy.</summary>
        /// <param name="initial">Delay before the first retry; positive.</param>
        /// <param name="max">Upper bound of any delay; at least <paramref name="initial"/>.</param>
        /// <param name="multiplier">Growth per attempt; at least 1.</param>
        /// <param name="jitter">Fraction in [0, 1): each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter] (then capped at max).</param>
        /// <param name="random">Random source for the jitter; required when jitter &gt; 0 (inject a seeded one in tests).</param>
        /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (the message names it).</exception>
        /// <exception cref="ArgumentNullException">jitter &gt; 0 and random is null.</exception>
        public Backoff(TimeSpan initial, TimeSpan max, double multiplier, double jitter, Random random)
        {
            if (initial <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException("initial", initial, "initial delay must be positive, got " + initial);
            }
            if (max < initial)
            {
                throw new ArgumentOutOfRangeException("max", max, "max delay must be at least the initial delay " + initial + ", got " + max);
            }
            if (!(multiplier >= 1.0) || double.IsInfinity(multiplier))
            {
                throw new ArgumentOutOfRangeException("multiplier", multiplier, "multiplier must be finite and at least 1, got " + multiplier);
            }
            if (!(jitter >= 0.0 && jitter < 1.0))
            {
                throw new ArgumentOutOfRangeException("jitter", jitter, "jitter must be in [0, 1), got " + jitter);
            }
            if (jitter > 0 && random == null)
            {
                throw new ArgumentNullException("random", "a random source is needed when jitter is " + jitter);
            }
            Initial = initial;
            Max = max;
            Multiplier = multiplier;
            Jitter = jitter;
            _random = random;
        }

        /// <summary>Delay before the first retry.</summary>
        public TimeSpan Initial { get; private set; }
        /// <summary>Upper bound of any delay.</summary>
        public TimeSpan Max { get; private set; }
        /// <summary>Growth per attempt.</summary>
        public double Multiplier { get; private set; }
        /// <summary>Jitter fraction.</summary>
        public double Jitter { get; private set; }

        /// <summary>Retries since the last <see cref="Reset"/>.</summary>
        public int Attempt { get { lock (_lock) { return _attempt; } } }

        /// <summary>The delay for a 0-based attempt without jitter: min(max, initial * multiplier^attempt).</summary>
        /// <exception cref="ArgumentOutOfRangeException">attempt is negative.</exception>
        public TimeSpan BaseDelay(int attempt)
        {
            if (attempt < 0)
            {
                throw new ArgumentOutOfRangeException("attempt", attempt, "attempt must be >= 0, got " + attempt);
            }
            double ms = Initial.TotalMilliseconds * Math.Pow(Multiplier, attempt);
            if (double.IsInfinity(ms) || ms > Max.TotalMilliseconds)
            {
                return Max;
            }
            return TimeSpan.FromMilliseconds(ms);
        }

        /// <summary>The delay before the next retry (jittered, capped at max); advances the attempt count.</summary>
        public TimeSpan NextDelay()
        {
            lock (_lock)
            {
                double ms = BaseDelay(_attempt).TotalMilliseconds;
                if (_attempt < int.MaxValue)
                {
                    _attempt++;
                }
                if (Jitter > 0)
                {
                    ms *= 1.0 + Jitter * (2.0 * _random.NextDouble() - 1.0);
                    ms = Math.Min(ms, Max.TotalMilliseconds);
                }
                return TimeSpan.FromMilliseconds(ms);
            }
        }

        /// <summary>Starts over at attempt 0 (after a successful connection).</summary>
        public void Reset()
        {
            lock (_lock)
            {
                _attempt = 0;
            }
        }
    }
}
