using System;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class RowFlipTests
    {
        private static byte[] Image(int width, int height, int bpp)
        {
            var data = new byte[width * height * bpp];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)i;
            }
            return data;
        }

        private static bool Equal(byte[] a, byte[] b)
        {
            if (a.Length != b.Length)
            {
                return false;
            }
            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i])
                {
                    return false;
                }
            }
            return true;
        }

        [TestCase(3, 4, 4)]
        [TestCase(5, 3, 4)]
        [TestCase(2, 1, 4)]
        [TestCase(7, 5, 2)]
        public void FlipMovesRowYToHeightMinusOneMinusY(int width, int height, int bpp)
        {
            byte[] original = Image(width, height, bpp);
            byte[] flipped = (byte[])original.Clone();
            RowFlip.FlipRows(flipped, width, height, bpp);
            int rowBytes = width * bpp;
            for (int y = 0; y < height; y++)
            {
                for (int i = 0; i < rowBytes; i++)
                {
                    Assert.AreEqual(original[y * rowBytes + i], flipped[(height - 1 - y) * rowBytes + i]);
                }
            }
            RowFlip.FlipRows(flipped, width, height, bpp);
            Assert.IsTrue(Equal(original, flipped));
        }

        [Test]
        public void CopyFlippedEqualsInPlaceFlip()
        {
            byte[] src = Image(4, 3, 4);
            byte[] expected = (byte[])src.Clone();
            RowFlip.FlipRows(expected, 4, 3, 4);
            var dst = new byte[src.Length];
            RowFlip.CopyFlipped(src, dst, 4, 3, 4);
            Assert.IsTrue(Equal(expected, dst));
            Assert.Throws<ArgumentException>(() => RowFlip.CopyFlipped(src, src, 4, 3, 4));
        }

        [Test]
        public void NeedsFlipFollowsTheWire()
        {
            Assert.IsTrue(RowFlip.NeedsFlip(ImageRowOrder.TopDown, ImageRowOrder.BottomUp));
            Assert.IsTrue(RowFlip.NeedsFlip(ImageRowOrder.Unspecified, ImageRowOrder.BottomUp));
            Assert.IsTrue(!RowFlip.NeedsFlip(ImageRowOrder.BottomUp, ImageRowOrder.BottomUp));
            Assert.IsTrue(!RowFlip.NeedsFlip(ImageRowOrder.Unspecified, ImageRowOrder.TopDown));
            Assert.Throws<ArgumentOutOfRangeException>(() => RowFlip.NeedsFlip((ImageRowOrder)7, ImageRowOrder.TopDown));
        }

        [Test]
        public void RowOrderValuesMatchTheWire()
        {
            Assert.AreEqual(1, (int)ImageRowOrder.TopDown);
            Assert.AreEqual(2, (int)ImageRowOrder.BottomUp);
        }

        [Test]
        public void ShortBufferIsRejectedNamingSizes()
        {
            var ex = Assert.Throws<ArgumentException>(() => RowFlip.FlipRows(new byte[10], 2, 2, 4));
            Assert.IsTrue(ex.Message.Contains("16"), ex.Message);
            Assert.IsTrue(ex.Message.Contains("10"), ex.Message);
        }
    }
}
