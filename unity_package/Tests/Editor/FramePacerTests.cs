using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class FramePacerTests
    {
        private long _now;

        private FramePacer<string> Make(int maxInFlight)
        {
            _now = 0;
            return new FramePacer<string>(maxInFlight, () => _now, 1000000);
        }

        [Test]
        public void NewestPoseReplacesPendingOne()
        {
            var pacer = Make(1);
            pacer.Submit("a");
            pacer.Submit("b");
            pacer.Submit("c");
            string got;
            ulong seq;
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            Assert.AreEqual("c", got);
            Assert.AreEqual(1UL, seq);
            Assert.AreEqual(2L, pacer.SkippedLocally);
            Assert.IsTrue(!pacer.HasPending);
        }

        [Test]
        public void WindowLimitsRequestsInFlight()
        {
            var pacer = Make(2);
            string got;
            ulong seq;
            pacer.Submit("a");
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            pacer.Submit("b");
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            Assert.AreEqual(2UL, seq);
            pacer.Submit("c");
            Assert.IsTrue(!pacer.TryTakeNext(out got, out seq), "window of 2 is full");
            pacer.Submit("d");
            Assert.AreEqual(1L, pacer.SkippedLocally);
            Assert.AreEqual(1, pacer.OnFrame(1));
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            Assert.AreEqual("d", got);
            Assert.AreEqual(3UL, seq);
        }

        [Test]
        public void FrameSettlesEarlierSkippedRequests()
        {
            var pacer = Make(3);
            string got;
            ulong seq;
            for (int i = 0; i < 3; i++)
            {
                pacer.Submit("p" + i);
                Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            }
            Assert.AreEqual(3, pacer.InFlight);
            // The server dropped 1 and 2 and answered 3.
            Assert.AreEqual(3, pacer.OnFrame(3));
            Assert.AreEqual(0, pacer.InFlight);
            Assert.AreEqual(0, pacer.OnFrame(3));
        }

        [Test]
        public void NothingPendingGivesNothing()
        {
            var pacer = Make(1);
            string got;
            ulong seq;
            Assert.IsTrue(!pacer.TryTakeNext(out got, out seq));
            Assert.IsNull(got);
            Assert.AreEqual(0UL, seq);
        }

        [Test]
        public void UnansweredRequestsExpireOnTheInjectedClock()
        {
            var pacer = Make(1);
            string got;
            ulong seq;
            pacer.Submit("a");
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            pacer.Submit("b");
            _now = 999999;
            Assert.IsTrue(!pacer.TryTakeNext(out got, out seq));
            _now = 1000000;
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            Assert.AreEqual("b", got);
            Assert.AreEqual(1L, pacer.Expired);
        }

        [Test]
        public void ResetKeepsPendingAndSequence()
        {
            var pacer = Make(1);
            string got;
            ulong seq;
            pacer.Submit("a");
            pacer.TryTakeNext(out got, out seq);
            pacer.Submit("b");
            pacer.ResetInFlight();
            Assert.IsTrue(pacer.TryTakeNext(out got, out seq));
            Assert.AreEqual("b", got);
            Assert.AreEqual(2UL, seq);
        }

        [Test]
        public void BadArgumentsAreRejected()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new FramePacer<string>(0, () => 0, 1));
            Assert.Throws<ArgumentNullException>(() => new FramePacer<string>(1, null, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FramePacer<string>(1, () => 0, 0));
            Assert.Throws<ArgumentNullException>(() => Make(1).Submit(null));
        }

        [Test]
        public void ConcurrentProducerAndConsumerLoseNothing()
        {
            var pacer = new FramePacer<object>(2, () => 0, long.MaxValue);
            const int submitted = 20000;
            long taken = 0;
            ulong lastSeq = 0;
            bool ordered = true;
            var done = new ManualResetEvent(false);
            var consumer = Task.Factory.StartNew(() =>
            {
                object item;
                ulong seq;
                while (true)
                {
                    bool finished = done.WaitOne(0);
                    if (pacer.TryTakeNext(out item, out seq))
                    {
                        ordered &= seq > lastSeq;
                        lastSeq = seq;
                        taken++;
                        pacer.OnFrame(seq);
                    }
                    else if (finished)
                    {
                        return;
                    }
                }
            }, TaskCreationOptions.LongRunning);
            for (int i = 0; i < submitted; i++)
            {
                pacer.Submit(new object());
            }
            done.Set();
            Assert.IsTrue(consumer.Wait(10000), "consumer did not finish");
            Assert.IsTrue(ordered, "sequence numbers must increase");
            Assert.AreEqual((long)submitted, taken + pacer.SkippedLocally);
        }
    }
}
