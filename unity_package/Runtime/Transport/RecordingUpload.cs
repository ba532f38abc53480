using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Grpc.Core;
using WorldBridge.V1;

namespace WorldBridge.Transport
{
    /// <summary>
    /// Streams one recording to the server on a background task: handshake, then
    /// RecordTrajectory with a RecordingHeader followed by the CapturedFrames the caller
    /// enqueues, and finally the server's RecordingSummary.
    /// </summary>
    /// <remarks>
    /// The caller (the Editor recorder, on the main thread) calls <see cref="TryEnqueue"/>
    /// per frame, <see cref="Complete"/> after the last one, and polls <see cref="IsDone"/>.
    /// The queue is bounded: TryEnqueue returns false when the network is behind, and the
    /// caller waits before capturing the next frame.
    /// </remarks>
    public sealed class RecordingUpload : IDisposable
    {
        private readonly BridgeOptions _options;
        private readonly RecordingHeader _header;
        private readonly int _maxQueued;
        private readonly ConcurrentQueue<CapturedFrame> _queue = new ConcurrentQueue<CapturedFrame>();
        private readonly SemaphoreSlim _available = new SemaphoreSlim(0);
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private Task _run;
        private int _completeRequested;
        private long _sent;
        private volatile RecordingSummary _summary;
        private volatile Exception _error;

        /// <summary>Prepares an upload; nothing is sent before <see cref="Start"/>.</summary>
        /// <param name="options">Server settings (validated here).</param>
        /// <param name="header">Dataset name and description; the hello is filled in.</param>
        /// <param name="maxQueued">Frames that may wait for the network, at least 1.</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">Invalid options, or maxQueued below 1.</exception>
        public RecordingUpload(BridgeOptions options, RecordingHeader header, int maxQueued)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            if (header == null)
            {
                throw new ArgumentNullException("header");
            }
            if (maxQueued < 1)
            {
                throw new ArgumentException("maxQueued must be at least 1, got " + maxQueued, "maxQueued");
            }
            options.Validate();
            _options = options;
            _header = header.Clone();
            _header.Hello = BridgeConnection.Hello();
            _maxQueued = maxQueued;
        }

        /// <summary>Frames written to the stream so far.</summary>
        public long Sent { get { return Interlocked.Read(ref _sent); } }

        /// <summary>Frames waiting for the network.</summary>
        public int Queued { get { return _queue.Count; } }

        /// <summary>True when the upload has finished: <see cref="Summary"/> or <see cref="Error"/> is set.</summary>
        public bool IsDone { get { return _run != null && _run.IsCompleted; } }

        /// <summary>The server's summary once done (null on error or cancel).</summary>
        public RecordingSummary Summary { get { return _summary; } }

        /// <summary>Why the upload failed (null on success).</summary>
        public Exception Error { get { return _error; } }

        /// <summary>Starts the background task.</summary>
        /// <exception cref="InvalidOperationException">Already started.</exception>
        public void Start()
        {
            if (_run != null)
            {
                throw new InvalidOperationException("the recording upload was already started");
            }
            _run = Task.Run(() => RunAsync(_cancel.Token));
        }

        /// <summary>Queues a frame unless <paramref name="maxQueued"/> frames already wait. Never blocks.</summary>
        /// <exception cref="InvalidOperationException">Called after <see cref="Complete"/>.</exception>
        public bool TryEnqueue(CapturedFrame frame)
        {
            if (frame == null)
            {
                throw new ArgumentNullException("frame");
            }
            if (Volatile.Read(ref _completeRequested) != 0)
            {
                throw new InvalidOperationException("no frames can be added after Complete()");
            }
            if (_queue.Count >= _maxQueued || IsDone)
            {
                return false;
            }
            _queue.Enqueue(frame);
            _available.Release();
            return true;
        }

        /// <summary>No more frames: the queued ones are sent, then the summary is awaited.</summary>
        public void Complete()
        {
            if (Interlocked.Exchange(ref _completeRequested, 1) == 0)
            {
                _available.Release();
            }
        }

        /// <summary>Aborts the upload (the call is cancelled; the server does not finish the dataset).</summary>
        public void Cancel()
        {
            if (!_cancel.IsCancellationRequested)
            {
                _cancel.Cancel();
            }
        }

        /// <summary>Cancels if still running.</summary>
        public void Dispose()
        {
            if (!IsDone)
            {
                Cancel();
            }
        }

        private async Task RunAsync(CancellationToken token)
        {
            try
            {
                using (var connection = new BridgeConnection(_options))
                {
                    ServerInfo info = await connection.HandshakeAsync(token).ConfigureAwait(false);
                    if (!info.Capabilities.Contains("recording"))
                    {
                        throw new InvalidOperationException("server " + _options.Address + " does not offer recording (capabilities: " +
                                                            string.Join(", ", info.Capabilities) + ")");
                    }
                    using (AsyncClientStreamingCall<RecordRequest, RecordingSummary> call =
                           connection.Client.RecordTrajectory(connection.Headers, null, token))
                    {
                        await call.RequestStream.WriteAsync(new RecordRequest { Header = _header }).ConfigureAwait(false);
                        while (true)
                        {
                            CapturedFrame frame;
                            if (_queue.TryDequeue(out frame))
                            {
                                await call.RequestStream.WriteAsync(new RecordRequest { Frame = frame }).ConfigureAwait(false);
                                Interlocked.Increment(ref _sent);
                                continue;
                            }
                            if (Volatile.Read(ref _completeRequested) != 0 && _queue.IsEmpty)
                            {
                                break;
                            }
                            await _available.WaitAsync(token).ConfigureAwait(false);
                        }
                        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                        _summary = await call.ResponseAsync.ConfigureAwait(false);
                    }
                }
            }
            catch (Exception e)
            {
                _error = token.IsCancellationRequested ? new OperationCanceledException("recording cancelled", e) : e;
            }
        }
    }
}
