using System;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using Grpc.Core;
using WorldBridge.Core;
using WorldBridge.V1;

namespace WorldBridge.Transport
{
    /// <summary>State of a <see cref="LiveStream"/>.</summary>
    public enum LiveStreamState
    {
        /// <summary>Not started, or stopped.</summary>
        Stopped,
        /// <summary>Handshake and OpenSession in progress.</summary>
        Connecting,
        /// <summary>Streaming poses and frames.</summary>
        Streaming,
        /// <summary>Waiting before the next reconnect.</summary>
        Backoff,
        /// <summary>Gave up after a permanent failure.</summary>
        Failed,
    }

    /// <summary>
    /// The live preview on a background task: handshake, OpenSession from the reference
    /// views, then StreamFrames with newest-pose-wins pacing; reconnects with exponential
    /// backoff when the connection drops, reopening the session from the same request.
    /// </summary>
    /// <remarks>
    /// The main thread only calls <see cref="Submit"/> and <see cref="TryDequeue"/>; neither
    /// blocks on the network. Frame.error results come out as <see cref="BridgeEventKind.FrameError"/>
    /// and the stream goes on. The main thread should display only the newest frame of each drain.
    /// </remarks>
    public sealed class LiveStream : IDisposable
    {
        private readonly BridgeOptions _options;
        private readonly OpenSessionRequest _openRequest;
        private readonly FramePacer<FrameRequest> _pacer;
        private readonly Backoff _backoff;
        private readonly ConcurrentQueue<BridgeEvent> _events = new ConcurrentQueue<BridgeEvent>();
        private readonly SemaphoreSlim _wake = new SemaphoreSlim(0, 1);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private Task _run;
        private int _state = (int)LiveStreamState.Stopped;
        private long _framesReceived;
        private string _sessionId;

        /// <summary>Prepares a stream; nothing is sent before <see cref="Start"/>.</summary>
        /// <param name="options">Server and timing settings (validated here).</param>
        /// <param name="openRequest">The session to open (reference views, generator, output spec); reused on every reconnect.</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">options are invalid (the message names the field).</exception>
        public LiveStream(BridgeOptions options, OpenSessionRequest openRequest)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            if (openRequest == null)
            {
                throw new ArgumentNullException("openRequest");
            }
            options.Validate();
            _options = options;
            _openRequest = openRequest.Clone();
            _pacer = new FramePacer<FrameRequest>(options.MaxInFlight, MonotonicClock.NowMicros,
                (long)options.StaleAfter.TotalMilliseconds * 1000);
            _backoff = new Backoff(options.BackoffInitial, options.BackoffMax, options.BackoffMultiplier,
                options.BackoffJitter, new Random());
        }

        /// <summary>Current state (any thread).</summary>
        public LiveStreamState State { get { return (LiveStreamState)Volatile.Read(ref _state); } }

        /// <summary>Session id of the open session, or null.</summary>
        public string SessionId { get { return Volatile.Read(ref _sessionId); } }

        /// <summary>Frames received since Start.</summary>
        public long FramesReceived { get { return Interlocked.Read(ref _framesReceived); } }

        /// <summary>True while a submitted request waits to be sent.</summary>
        public bool HasPendingRequest { get { return _pacer.HasPending; } }

        /// <summary>Poses replaced before they were sent (newest pose wins on the client).</summary>
        public long PosesSkipped { get { return _pacer.SkippedLocally; } }

        /// <summary>Starts the background task; returns at once.</summary>
        /// <exception cref="InvalidOperationException">Already started.</exception>
        public void Start()
        {
            if (_run != null)
            {
                throw new InvalidOperationException("the live stream was already started");
            }
            _run = Task.Run(() => RunAsync(_stop.Token));
        }

        /// <summary>
        /// Offers the newest request. Session id and sequence are filled in when it is sent;
        /// an unsent older request is dropped. Never blocks.
        /// </summary>
        /// <exception cref="ArgumentNullException">request is null.</exception>
        public void Submit(FrameRequest request)
        {
            _pacer.Submit(request);
            Wake();
        }

        /// <summary>Takes the next event, if any. Never blocks.</summary>
        public bool TryDequeue(out BridgeEvent e)
        {
            return _events.TryDequeue(out e);
        }

        /// <summary>
        /// Stops streaming; the background task closes the session (bounded by the unary
        /// deadline) and the channel. Returns at once; <see cref="Completion"/> tells when done.
        /// </summary>
        public void Stop()
        {
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
            }
        }

        /// <summary>Completes when the background task has finished (after Stop or a permanent failure).</summary>
        public Task Completion { get { return _run ?? Task.FromResult(0); } }

        /// <summary>Stops (see <see cref="Stop"/>).</summary>
        public void Dispose()
        {
            Stop();
        }

        private void Wake()
        {
            if (_wake.CurrentCount == 0)
            {
                try
                {
                    _wake.Release();
                }
                catch (SemaphoreFullException)
                {
                    // Another thread woke the writer first.
                }
            }
        }

        private void Enqueue(BridgeEvent e)
        {
            _events.Enqueue(e);
        }

        private void SetState(LiveStreamState state)
        {
            Volatile.Write(ref _state, (int)state);
        }

        private async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                SetState(LiveStreamState.Connecting);
                BridgeConnection connection = null;
                string sessionId = null;
                try
                {
                    connection = new BridgeConnection(_options);
                    ServerInfo info = await connection.HandshakeAsync(stop).ConfigureAwait(false);
                    OpenSessionResponse session = await connection.OpenSessionAsync(_openRequest, stop).ConfigureAwait(false);
                    sessionId = session.SessionId;
                    Volatile.Write(ref _sessionId, sessionId);
                    _backoff.Reset();
                    _pacer.ResetInFlight();
                    string warnings = string.Join("; ", info.Warnings) + (session.Warnings.Count > 0 ? "; " + string.Join("; ", session.Warnings) : "");
                    Enqueue(new BridgeEvent { Kind = BridgeEventKind.Connected, Server = info, Session = session, Message = warnings.Trim(' ', ';') });
                    SetState(LiveStreamState.Streaming);
                    await StreamAsync(connection, sessionId, stop).ConfigureAwait(false);
                    if (!stop.IsCancellationRequested)
                    {
                        Enqueue(new BridgeEvent { Kind = BridgeEventKind.Disconnected, Code = (int)StatusCode.Unavailable, Message = "the server ended the frame stream" });
                    }
                }
                catch (Exception e) when (stop.IsCancellationRequested && (e is OperationCanceledException || e is RpcException))
                {
                    // Stopping.
                }
                catch (Exception e) when (BridgeConnection.IsPermanent(e))
                {
                    SetState(LiveStreamState.Failed);
                    Enqueue(new BridgeEvent { Kind = BridgeEventKind.Failed, Code = CodeOf(e), Message = MessageOf(e) });
                    await CloseQuietlyAsync(connection, sessionId).ConfigureAwait(false);
                    return;
                }
                catch (Exception e)
                {
                    Enqueue(new BridgeEvent { Kind = BridgeEventKind.Disconnected, Code = CodeOf(e), Message = MessageOf(e) });
                }
                finally
                {
                    Volatile.Write(ref _sessionId, null);
                }
                await CloseQuietlyAsync(connection, sessionId).ConfigureAwait(false);
                if (stop.IsCancellationRequested)
                {
                    break;
                }
                SetState(LiveStreamState.Backoff);
                try
                {
                    await Task.Delay(_backoff.NextDelay(), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            SetState(LiveStreamState.Stopped);
        }

        private async Task StreamAsync(BridgeConnection connection, string sessionId, CancellationToken stop)
        {
            using (var streamCts = CancellationTokenSource.CreateLinkedTokenSource(stop))
            using (AsyncDuplexStreamingCall<FrameRequest, Frame> call = connection.Client.StreamFrames(connection.Headers, null, streamCts.Token))
            {
                Task writer = WriteLoopAsync(call, sessionId, streamCts.Token);
                Task reader = ReadLoopAsync(call, streamCts.Token);
                Task first = await Task.WhenAny(writer, reader).ConfigureAwait(false);
                streamCts.Cancel();
                try
                {
                    await Task.WhenAll(writer, reader).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    if (first.IsFaulted)
                    {
                        // The loop that failed first says why the stream broke.
                        ExceptionDispatchInfo.Capture(first.Exception.GetBaseException()).Throw();
                    }
                    // Otherwise one loop ended cleanly (the server closed the stream, or Stop)
                    // and the other was cancelled.
                }
            }
        }

        private async Task WriteLoopAsync(AsyncDuplexStreamingCall<FrameRequest, Frame> call, string sessionId, CancellationToken token)
        {
            while (!token.IsCancellationRequested)
            {
                FrameRequest request;
                ulong sequence;
                if (_pacer.TryTakeNext(out request, out sequence))
                {
                    request.SessionId = sessionId;
                    request.Sequence = sequence;
                    await call.RequestStream.WriteAsync(request).ConfigureAwait(false);
                }
                else
                {
                    // Woken by Submit or by a frame freeing the window; the timeout re-checks stale requests.
                    await _wake.WaitAsync(TimeSpan.FromMilliseconds(50), token).ConfigureAwait(false);
                }
            }
        }

        private async Task ReadLoopAsync(AsyncDuplexStreamingCall<FrameRequest, Frame> call, CancellationToken token)
        {
            while (await call.ResponseStream.MoveNext(token).ConfigureAwait(false))
            {
                Frame frame = call.ResponseStream.Current;
                _pacer.OnFrame(frame.Sequence);
                Wake();
                double roundTripMs = (MonotonicClock.NowMicros() - frame.ClientTimestampUs) / 1000.0;
                if (frame.Error != null && frame.Error.Code != 0)
                {
                    Enqueue(new BridgeEvent { Kind = BridgeEventKind.FrameError, Frame = frame, Code = frame.Error.Code, Message = frame.Error.Message });
                    continue;
                }
                Interlocked.Increment(ref _framesReceived);
                Enqueue(new BridgeEvent { Kind = BridgeEventKind.Frame, Frame = frame, RoundTripMs = roundTripMs });
            }
        }

        private async Task CloseQuietlyAsync(BridgeConnection connection, string sessionId)
        {
            if (connection == null)
            {
                return;
            }
            try
            {
                if (sessionId != null)
                {
                    using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                    {
                        await connection.CloseSessionAsync(sessionId, timeout.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception)
            {
                // Best effort: the server also drops sessions whose connection is gone.
            }
            finally
            {
                connection.Dispose();
            }
        }

        private static int CodeOf(Exception e)
        {
            var rpc = e as RpcException;
            if (rpc != null)
            {
                return (int)rpc.StatusCode;
            }
            return e is ProtocolMismatchException ? (int)StatusCode.FailedPrecondition : (int)StatusCode.Unknown;
        }

        private static string MessageOf(Exception e)
        {
            var rpc = e as RpcException;
            if (rpc != null)
            {
                return rpc.StatusCode + ": " + rpc.Status.Detail;
            }
            return e.Message;
        }
    }
}
