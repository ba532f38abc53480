using System;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class BackoffTests
    {
        [Test]
        public void SequenceDoublesUpToTheCap()
        {
            var b = new Backoff(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5), 2.0, 0.0, null);
            double[] expected = { 250, 500, 1000, 2000, 4000, 5000, 5000 };
            foreach (double ms in expected)
            {
                Assert.AreEqual(ms, b.NextDelay().TotalMilliseconds, 1e-6);
            }
            Assert.AreEqual(7, b.Attempt);
            b.Reset();
            Assert.AreEqual(250.0, b.NextDelay().TotalMilliseconds, 1e-6);
        }

        [Test]
        public void BaseDelayHandlesHugeAttempts()
        {
            var b = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 3.0, 0.0, null);
            Assert.AreEqual(30000.0, b.BaseDelay(100000).TotalMilliseconds, 1e-6);
            Assert.AreEqual(900.0, b.BaseDelay(2).TotalMilliseconds, 1e-6);
            Assert.Throws<ArgumentOutOfRangeException>(() => b.BaseDelay(-1));
        }

        [Test]
        public void JitterStaysWithinItsBandAndIsSeeded()
        {
            var a = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(100), 2.0, 0.2, new Random(7));
            var b = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(100), 2.0, 0.2, new Random(7));
            for (int i = 0; i < 6; i++)
            {
                double baseMs = 1000 * Math.Pow(2, i);
                double got = a.NextDelay().TotalMilliseconds;
                Assert.IsTrue(got >= baseMs * 0.8 - 1e-6 && got <= baseMs * 1.2 + 1e-6, "attempt " + i + ": " + got);
                Assert.AreEqual(got, b.NextDelay().TotalMilliseconds, 1e-9);
            }
        }

        [Test]
        public void JitteredDelayNeverExceedsMax()
        {
            var b = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 2.0, 0.5, new Random(1));
            for (int i = 0; i < 50; i++)
            {
                Assert.IsTrue(b.NextDelay() <= TimeSpan.FromSeconds(2));
            }
        }

        [Test]
        public void BadSettingsAreRejectedNamingThem()
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
                new Backoff(TimeSpan.Zero, TimeSpan.FromSeconds(1), 2, 0, null));
            Assert.AreEqual("initial", ex.ParamName);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
                new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 2, 0, null));
            Assert.AreEqual("max", ex.ParamName);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
                new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 0.5, 0, null));
            Assert.AreEqual("multiplier", ex.ParamName);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
                new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 2, 1.5, new Random()));
            Assert.AreEqual("jitter", ex.ParamName);
            Assert.Throws<ArgumentNullException>(() => new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 2, 0.1, null));
        }
    }
}
