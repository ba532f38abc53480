using System;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class DepthPackingTests
    {
        [Test]
        public void Float32IsLittleEndianAndTopDown()
        {
            // 2 x 2, bottom-up: bottom row (1, 2), top row (3, +inf).
            var bottomUp = new[] { 1.0f, 2.0f, 3.0f, float.PositiveInfinity };
            byte[] bytes = DepthPacking.Pack(bottomUp, 2, 2, DepthEncodingKind.Float32M);
            Assert.AreEqual(16, bytes.Length);
            // Top row first: 3.0f = 0x40400000, +inf = 0x7F800000.
            Assert.IsTrue(Same(new byte[] { 0x00, 0x00, 0x40, 0x40 }, bytes, 0));
            Assert.IsTrue(Same(new byte[] { 0x00, 0x00, 0x80, 0x7F }, bytes, 4));
            // Then the bottom row: 1.0f = 0x3F800000, 2.0f = 0x40000000.
            Assert.IsTrue(Same(new byte[] { 0x00, 0x00, 0x80, 0x3F }, bytes, 8));
            Assert.IsTrue(Same(new byte[] { 0x00, 0x00, 0x00, 0x40 }, bytes, 12));
        }

        [Test]
        public void Float16IsLittleEndianAndTopDown()
        {
            // 3 x 2, bottom-up: bottom row (0, 1, 2), top row (65504, +inf, 0.5).
            var bottomUp = new[] { 0.0f, 1.0f, 2.0f, 65504f, float.PositiveInfinity, 0.5f };
            byte[] bytes = DepthPacking.Pack(bottomUp, 3, 2, DepthEncodingKind.Float16M);
            var expected = new byte[] { 0xFF, 0x7B, 0x00, 0x7C, 0x00, 0x38, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x40 };
            Assert.AreEqual(expected.Length, bytes.Length);
            Assert.IsTrue(Same(expected, bytes, 0));
        }

        [Test]
        public void NegativeAndNaNAreRejectedNamingPixelAndValue()
        {
            var ex = Assert.Throws<ArgumentException>(() =>
                DepthPacking.Pack(new[] { 1.0f, -0.5f }, 2, 1, DepthEncodingKind.Float32M));
            Assert.IsTrue(ex.Message.Contains("x=1") && ex.Message.Contains("-0.5"), ex.Message);
            Assert.Throws<ArgumentException>(() => DepthPacking.Pack(new[] { float.NaN }, 1, 1, DepthEncodingKind.Float16M));
        }

        [Test]
        public void LengthMismatchIsRejected()
        {
            var ex = Assert.Throws<ArgumentException>(() => DepthPacking.Pack(new float[5], 2, 2, DepthEncodingKind.Float32M));
            Assert.IsTrue(ex.Message.Contains("4") && ex.Message.Contains("5"), ex.Message);
        }

        [TestCase(false)]
        [TestCase(true)]
        public void LinearEyeDepthInvertsProjection(bool reversedZ)
        {
            const float near = 0.3f, far = 1000f;
            foreach (double z in new[] { 0.3, 1.0, 7.5, 120.0, 1000.0 })
            {
                // Conventional depth-buffer value of eye depth z, then reversed if asked.
                double d = (1.0 / z - 1.0 / near) / (1.0 / far - 1.0 / near);
                float raw = (float)(reversedZ ? 1.0 - d : d);
                Assert.AreEqual(z, DepthPacking.LinearEyeDepth(raw, near, far, reversedZ), z * 1e-3);
            }
        }

        [Test]
        public void NearAndFarPlanesMapToNearAndFar()
        {
            Assert.AreEqual(0.1f, DepthPacking.LinearEyeDepth(0f, 0.1f, 100f, false), 1e-6f);
            Assert.AreEqual(100f, DepthPacking.LinearEyeDepth(1f, 0.1f, 100f, false), 1e-3f);
            Assert.AreEqual(0.1f, DepthPacking.LinearEyeDepth(1f, 0.1f, 100f, true), 1e-6f);
            Assert.AreEqual(100f, DepthPacking.LinearEyeDepth(0f, 0.1f, 100f, true), 1e-3f);
        }

        [Test]
        public void LinearizeMarksClearedPixelsAsSky()
        {
            var raw = new[] { 0f, 1f, 0.5f };
            DepthPacking.LinearizeInPlace(raw, 0.1f, 100f, true, true, false);
            Assert.IsTrue(float.IsPositiveInfinity(raw[0]));
            Assert.AreEqual(0.1f, raw[1], 1e-6f);
            Assert.AreEqual(DepthPacking.LinearEyeDepth(0.5f, 0.1f, 100f, true), raw[2], 1e-6f);

            var keep = new[] { 1f };
            DepthPacking.LinearizeInPlace(keep, 0.1f, 100f, false, false, false);
            Assert.AreEqual(100f, keep[0], 1e-3f);
        }

        [Test]
        public void LinearizeOrthographic()
        {
            var raw = new[] { 0.25f };
            DepthPacking.LinearizeInPlace(raw, 1f, 11f, false, true, true);
            Assert.AreEqual(3.5f, raw[0], 1e-6f);
            var reversed = new[] { 0.75f };
            DepthPacking.LinearizeInPlace(reversed, 1f, 11f, true, true, true);
            Assert.AreEqual(3.5f, reversed[0], 1e-6f);
        }

        [Test]
        public void BadPlanesAreRejected()
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => DepthPacking.LinearEyeDepth(0.5f, 0f, 10f, false));
            Assert.AreEqual("near", ex.ParamName);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() => DepthPacking.LinearEyeDepth(0.5f, 1f, 1f, false));
            Assert.AreEqual("far", ex.ParamName);
        }

        private static bool Same(byte[] expected, byte[] actual, int offset)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                if (actual[offset + i] != expected[i])
                {
                    return false;
                }
            }
            return true;
        }
    }
}
