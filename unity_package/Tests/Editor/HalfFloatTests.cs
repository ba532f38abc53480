using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class HalfFloatTests
    {
        // Expected bit patterns agree with numpy's float32 -> float16 cast.
        [TestCase(1.0f, (ushort)0x3C00)]
        [TestCase(-2.0f, (ushort)0xC000)]
        [TestCase(0.0f, (ushort)0x0000)]
        [TestCase(65504f, (ushort)0x7BFF)]
        [TestCase(65519f, (ushort)0x7BFF)]
        [TestCase(65520f, (ushort)0x7C00)]
        [TestCase(1e6f, (ushort)0x7C00)]
        [TestCase(float.PositiveInfinity, (ushort)0x7C00)]
        [TestCase(float.NegativeInfinity, (ushort)0xFC00)]
        [TestCase(1e-7f, (ushort)0x0002)]
        [TestCase(5.9604645e-8f, (ushort)0x0001)]
        [TestCase(6.1e-5f, (ushort)0x03FF)]
        [TestCase(2.9802322e-8f, (ushort)0x0000)]
        [TestCase(8.940697e-8f, (ushort)0x0002)]
        [TestCase(1.00048828125f, (ushort)0x3C00)]
        [TestCase(1.00146484375f, (ushort)0x3C02)]
        [TestCase(0.5f, (ushort)0x3800)]
        public void FromFloatBitPatterns(float value, ushort expected)
        {
            Assert.AreEqual(expected, HalfFloat.FromFloat(value));
        }

        [Test]
        public void NegativeZeroKeepsItsSign()
        {
            Assert.AreEqual((ushort)0x8000, HalfFloat.FromFloat(-0.0f));
        }

        [Test]
        public void NaNStaysNaN()
        {
            ushort h = HalfFloat.FromFloat(float.NaN);
            Assert.AreEqual(0x7C00, h & 0x7C00);
            Assert.IsTrue((h & 0x3FF) != 0);
            Assert.IsTrue(float.IsNaN(HalfFloat.ToFloat(h)));
        }

        [Test]
        public void EveryFiniteHalfRoundTrips()
        {
            for (int bits = 0; bits < 0x10000; bits++)
            {
                if ((bits & 0x7C00) == 0x7C00)
                {
                    continue;
                }
                float f = HalfFloat.ToFloat((ushort)bits);
                Assert.AreEqual((ushort)bits, HalfFloat.FromFloat(f), "half 0x" + bits.ToString("X4"));
            }
        }

        [Test]
        public void ToFloatKnownValues()
        {
            Assert.AreEqual(1.0f, HalfFloat.ToFloat(0x3C00), 0.0f);
            Assert.AreEqual(65504f, HalfFloat.ToFloat(0x7BFF), 0.0f);
            Assert.IsTrue(float.IsPositiveInfinity(HalfFloat.ToFloat(0x7C00)));
            Assert.AreEqual(5.9604645e-8f, HalfFloat.ToFloat(0x0001), 1e-15f);
        }
    }
}
