using System;
using System.Collections.Generic;

namespace WorldBridge.Core
{
    /// <summary>
    /// Newest-pose-wins pacing for the live stream: at most <see cref="MaxInFlight"/> requests
    /// sent and not yet answered; a newer pose replaces a pending unsent one (counted in
    /// <see cref="SkippedLocally"/>), so latency never grows with a queue.
    /// </summary>
    /// <remarks>
    /// Thread-safe: the game thread calls <see cref="Submit"/>, the network writer calls
    /// <see cref="TryTakeNext"/>, the reader calls <see cref="OnFrame"/>. The server may also
    /// drop overtaken requests (reported in <c>Frame.skipped_sequences</c>) and answers in
    /// order, so a frame for sequence s settles every in-flight request up to s. Requests with
    /// no answer after <c>staleAfterMicros</c> on the injected clock are forgotten, so pacing
    /// never wedges on a lost reply. No timers: time comes only from the clock.
    /// </remarks>
    /// <typeparam name="T">The request type (e.g. the wire's FrameRequest).</typeparam>
    public sealed class FramePacer<T> where T : class
    {
        private readonly object _lock = new object();
        private readonly Func<long> _clockMicros;
        private readonly long _staleAfterMicros;
        // In-flight sequence numbers in send order, with their send times.
        private readonly LinkedList<KeyValuePair<ulong, long>> _inFlight = new LinkedList<KeyValuePair<ulong, long>>();
        private T _pending;
        private ulong _lastSequence;
        private long _skippedLocally;
        private long _expired;

        /// <summary>Creates a pacer.</summary>
        /// <param name="maxInFlight">Requests that may be sent and unanswered at once, at least 1.</param>
        /// <param name="clockMicros">Monotonic clock in microseconds (e.g. Stopwatch-based; a fake in tests).</param>
        /// <param name="staleAfterMicros">Forget an unanswered request after this long, microseconds, positive.</param>
        /// <exception cref="ArgumentOutOfRangeException">maxInFlight below 1 or staleAfterMicros not positive.</exception>
        /// <exception cref="ArgumentNullException">clockMicros is null.</exception>
        public FramePacer(int maxInFlight, Func<long> clockMicros, long staleAfterMicros)
        {
            if (maxInFlight < 1)
            {
                throw new ArgumentOutOfRangeException("maxInFlight", maxInFlight, "maxInFlight must be at least 1, got " + maxInFlight);
            }
            if (clockMicros == null)
            {
                throw new ArgumentNullException("clockMicros");
            }
            if (staleAfterMicros <= 0)
            {
                throw new ArgumentOutOfRangeException("staleAfterMicros", staleAfterMicros,
                    "staleAfterMicros must be positive, got " + staleAfterMicros);
            }
            MaxInFlight = maxInFlight;
            _clockMicros = clockMicros;
            _staleAfterMicros = staleAfterMicros;
        }

        /// <summary>Requests that may be in flight at once.</summary>
        public int MaxInFlight { get; private set; }

        /// <summary>Requests sent and not yet answered (after expiring stale ones).</summary>
        public int InFlight
        {
            get
            {
                lock (_lock)
                {
                    ExpireStale();
                    return _inFlight.Count;
                }
            }
        }

        /// <summary>Poses replaced before they were sent.</summary>
        public long SkippedLocally { get { lock (_lock) { return _skippedLocally; } } }

        /// <summary>In-flight requests forgotten because no answer came within the stale time.</summary>
        public long Expired { get { lock (_lock) { return _expired; } } }

        /// <summary>The last sequence number handed out (0 before the first).</summary>
        public ulong LastSequence { get { lock (_lock) { return _lastSequence; } } }

        /// <summary>True when a pose waits to be sent.</summary>
        public bool HasPending { get { lock (_lock) { return _pending != null; } } }

        /// <summary>Offers the newest request; an unsent older one is dropped and counted.</summary>
        /// <exception cref="ArgumentNullException">request is null.</exception>
        public void Submit(T request)
        {
            if (request == null)
            {
                throw new ArgumentNullException("request");
            }
            lock (_lock)
            {
                if (_pending != null)
                {
                    _skippedLocally++;
                }
                _pending = request;
            }
        }

        /// <summary>
        /// Takes the pending request if fewer than <see cref="MaxInFlight"/> are in flight and
        /// assigns it the next sequence number (strictly increasing from 1).
        /// </summary>
        /// <returns>False when nothing is pending or the in-flight window is full.</returns>
        public bool TryTakeNext(out T request, out ulong sequence)
        {
            lock (_lock)
            {
                ExpireStale();
                if (_pending == null || _inFlight.Count >= MaxInFlight)
                {
                    request = null;
                    sequence = 0;
                    return false;
                }
                request = _pending;
                _pending = null;
                sequence = ++_lastSequence;
                _inFlight.AddLast(new KeyValuePair<ulong, long>(sequence, _clockMicros()));
                return true;
            }
        }

        /// <summary>
        /// Settles the request answered by a frame with <paramref name="sequence"/> and every
        /// earlier one still in flight (the server answers in order and reports the rest as
        /// skipped).
        /// </summary>
        /// <returns>How many in-flight requests were settled.</returns>
        public int OnFrame(ulong sequence)
        {
            lock (_lock)
            {
                int settled = 0;
                while (_inFlight.First != null && _inFlight.First.Value.Key <= sequence)
                {
                    _inFlight.RemoveFirst();
                    settled++;
                }
                return settled;
            }
        }

        /// <summary>
        /// Forgets every in-flight request (a new stream after a reconnect). The pending
        /// request is kept; sequence numbers keep increasing.
        /// </summary>
        public void ResetInFlight()
        {
            lock (_lock)
            {
                _inFlight.Clear();
            }
        }

        private void ExpireStale()
        {
            long now = _clockMicros();
            while (_inFlight.First != null && now - _inFlight.First.Value.Value >= _staleAfterMicros)
            {
                _inFlight.RemoveFirst();
                _expired++;
            }
        }
    }
}
