using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// Row order of raw pixel data; the values equal the wire's <c>RowOrder</c> enum.
    /// </summary>
    public enum ImageRowOrder
    {
        /// <summary>Not stated; the wire treats it as <see cref="TopDown"/>.</summary>
        Unspecified = 0,
        /// <summary>First row is the top of the image (Unreal, OpenCV, PNG, the wire's depth).</summary>
        TopDown = 1,
        /// <summary>First row is the bottom of the image (Unity Texture2D, GPU readback, OpenGL).</summary>
        BottomUp = 2,
    }

    /// <summary>
    /// Row flips between top-down and bottom-up images. WorldBridge's Unity client asks the
    /// server for <see cref="ImageRowOrder.BottomUp"/> textures so that
    /// <c>Texture2D.LoadRawTextureData</c> takes them as they are; a top-down texture that
    /// arrives anyway is flipped with <see cref="FlipRows"/>.
    /// </summary>
    public static class RowFlip
    {
        /// <summary>Maps <see cref="ImageRowOrder.Unspecified"/> to <see cref="ImageRowOrder.TopDown"/>, as the wire does.</summary>
        public static ImageRowOrder Effective(ImageRowOrder order)
        {
            return order == ImageRowOrder.Unspecified ? ImageRowOrder.TopDown : order;
        }

        /// <summary>True when data in row order <paramref name="have"/> must be flipped to be in <paramref name="want"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">An order is not a known value.</exception>
        public static bool NeedsFlip(ImageRowOrder have, ImageRowOrder want)
        {
            return Check(Effective(have), "have") != Check(Effective(want), "want");
        }

        /// <summary>
        /// Reverses the order of rows in place (top-down &lt;-&gt; bottom-up) of a tightly
        /// packed image: rows of <paramref name="width"/> * <paramref name="bytesPerPixel"/>
        /// bytes, no padding.
        /// </summary>
        /// <param name="data">Pixel bytes, at least width * height * bytesPerPixel long.</param>
        /// <param name="width">Pixels per row, at least 1.</param>
        /// <param name="height">Number of rows, at least 1.</param>
        /// <param name="bytesPerPixel">Bytes per pixel, at least 1 (4 for RGBA8, 4 for float32 depth).</param>
        /// <exception cref="ArgumentNullException">data is null.</exception>
        /// <exception cref="ArgumentException">A size is below 1 or data is too short.</exception>
        public static void FlipRows(byte[] data, int width, int height, int bytesPerPixel)
        {
            int rowBytes = CheckImage(data, width, height, bytesPerPixel);
            byte[] tmp = new byte[rowBytes];
            for (int top = 0, bottom = height - 1; top < bottom; top++, bottom--)
            {
                Buffer.BlockCopy(data, top * rowBytes, tmp, 0, rowBytes);
                Buffer.BlockCopy(data, bottom * rowBytes, data, top * rowBytes, rowBytes);
                Buffer.BlockCopy(tmp, 0, data, bottom * rowBytes, rowBytes);
            }
        }

        /// <summary>
        /// Copies <paramref name="source"/> into <paramref name="destination"/> with the rows
        /// reversed (both tightly packed, same size); the arrays must not be the same.
        /// </summary>
        /// <exception cref="ArgumentNullException">An array is null.</exception>
        /// <exception cref="ArgumentException">A size is below 1, an array is too short, or both are the same array.</exception>
        public static void CopyFlipped(byte[] source, byte[] destination, int width, int height, int bytesPerPixel)
        {
            int rowBytes = CheckImage(source, width, height, bytesPerPixel);
            CheckImage(destination, width, height, bytesPerPixel);
            if (ReferenceEquals(source, destination))
            {
                throw new ArgumentException("source and destination must differ; use FlipRows to flip in place");
            }
            for (int row = 0; row < height; row++)
            {
                Buffer.BlockCopy(source, row * rowBytes, destination, (height - 1 - row) * rowBytes, rowBytes);
            }
        }

        private static ImageRowOrder Check(ImageRowOrder order, string name)
        {
            if (order != ImageRowOrder.TopDown && order != ImageRowOrder.BottomUp)
            {
                throw new ArgumentOutOfRangeException(name, order, "unknown row order " + (int)order);
            }
            return order;
        }

        private static int CheckImage(byte[] data, int width, int height, int bytesPerPixel)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            if (width < 1 || height < 1 || bytesPerPixel < 1)
            {
                throw new ArgumentException(string.Format("width, height and bytesPerPixel must be at least 1, got {0}x{1}x{2}",
                    width, height, bytesPerPixel));
            }
            long needed = (long)width * height * bytesPerPixel;
            if (data.Length < needed)
            {
                throw new ArgumentException(string.Format("image of {0}x{1} pixels, {2} bytes each needs {3} bytes, got {4}",
                    width, height, bytesPerPixel, needed, data.Length), "data");
            }
            return width * bytesPerPixel;
        }
    }
}
