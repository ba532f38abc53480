using System;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class SessionOptionsTests
    {
        [Test]
        public void DefaultLeavesAnchorLockToTheServer()
        {
            var options = new SessionOptions();
            Assert.AreEqual(AnchorLockMode.ServerDefault, options.AnchorLock);
            // ANCHOR_LOCK_UNSPECIFIED: the server's --anchor-lock setting applies.
            Assert.AreEqual(0, SessionOptions.AnchorLockWireValue(options.AnchorLock));
            Assert.AreEqual(AnchorLockMode.ServerDefault, default(AnchorLockMode));
            Assert.DoesNotThrow(options.Validate);
        }

        [Test]
        public void BundleDefaultsToTheServersAndMustNotBeNull()
        {
            var options = new SessionOptions();
            Assert.AreEqual("", options.Bundle);
            options.Bundle = "my_level";
            Assert.DoesNotThrow(options.Validate);
            options.Bundle = null;
            var thrown = Assert.Throws<ArgumentException>(options.Validate);
            Assert.AreEqual("Bundle", thrown.ParamName);
        }

        // The numbers of ANCHOR_LOCK_UNSPECIFIED, ANCHOR_LOCK_ON and ANCHOR_LOCK_OFF in
        // protos/worldbridge/v1/session.proto: what generator_options.anchor_lock carries.
        [TestCase(AnchorLockMode.ServerDefault, 0)]
        [TestCase(AnchorLockMode.On, 1)]
        [TestCase(AnchorLockMode.Off, 2)]
        public void EachAnchorLockHasItsWireValue(AnchorLockMode mode, int wire)
        {
            var options = new SessionOptions { AnchorLock = mode };
            Assert.DoesNotThrow(options.Validate);
            Assert.AreEqual(wire, SessionOptions.AnchorLockWireValue(options.AnchorLock));
        }

        [Test]
        public void UnknownAnchorLockIsRejectedWithItsValue()
        {
            var unknown = (AnchorLockMode)7;
            var thrown = Assert.Throws<ArgumentOutOfRangeException>(() => SessionOptions.AnchorLockWireValue(unknown));
            StringAssert.Contains("unknown anchor lock 7", thrown.Message);
            var invalid = Assert.Throws<ArgumentException>(new SessionOptions { AnchorLock = unknown }.Validate);
            StringAssert.Contains("unknown anchor lock 7", invalid.Message);
            Assert.AreEqual("AnchorLock", invalid.ParamName);
        }

        [Test]
        public void ValidateNamesOtherBadFields()
        {
            var noGenerator = Assert.Throws<ArgumentException>(new SessionOptions { Generator = null }.Validate);
            Assert.AreEqual("Generator", noGenerator.ParamName);
            var empty = Assert.Throws<ArgumentException>(new SessionOptions { OutputWidth = 0, OutputHeight = 240 }.Validate);
            StringAssert.Contains("0x240", empty.Message);
            Assert.DoesNotThrow(new SessionOptions { Generator = "frame-model", OutputWidth = 1, OutputHeight = 1, Seed = ulong.MaxValue }.Validate);
        }
    }
}
