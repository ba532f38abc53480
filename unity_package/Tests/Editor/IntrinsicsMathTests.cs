using System;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class IntrinsicsMathTests
    {
        [Test]
        public void MatchesSharedFovVectors()
        {
            int checkedCases = 0;
            foreach (IntrinsicsVector v in ConventionVectors.Load().Intrinsics)
            {
                PinholeIntrinsics k = v.FovAxis == "vertical"
                    ? IntrinsicsMath.FromVerticalFov(v.FovDeg, v.Width, v.Height)
                    : IntrinsicsMath.FromHorizontalFov(v.FovDeg, v.Width, v.Height);
                Assert.AreEqual(v.Expected.Fx, k.Fx, 1e-9, v.Name + " fx");
                Assert.AreEqual(v.Expected.Fy, k.Fy, 1e-9, v.Name + " fy");
                Assert.AreEqual(v.Expected.Cx, k.Cx, 1e-9, v.Name + " cx");
                Assert.AreEqual(v.Expected.Cy, k.Cy, 1e-9, v.Name + " cy");
                Assert.AreEqual((uint)v.Width, k.Width);
                Assert.AreEqual((uint)v.Height, k.Height);
                checkedCases++;
            }
            Assert.IsTrue(checkedCases >= 1);
        }

        [Test]
        public void UnityVerticalFov60()
        {
            PinholeIntrinsics k = IntrinsicsMath.FromVerticalFov(60, 1920, 1080);
            Assert.That(k.Fy, Is.EqualTo(540.0 / Math.Tan(Math.PI / 6)).Within(1e-9));
            Assert.That(k.Fx, Is.EqualTo(k.Fy).Within(0.0));
            Assert.AreEqual(960.0, k.Cx, 0.0);
            Assert.AreEqual(540.0, k.Cy, 0.0);
            Assert.AreEqual(60.0, IntrinsicsMath.VerticalFovDeg(k), 1e-9);
        }

        [Test]
        public void FocalLengthMatchesEquivalentFov()
        {
            // 24 mm sensor height and 20.78 mm focal length give a 60 degree vertical FOV.
            double focal = 12.0 / Math.Tan(Math.PI / 6);
            PinholeIntrinsics a = IntrinsicsMath.FromFocalLength(focal, 24.0, 640, 480);
            PinholeIntrinsics b = IntrinsicsMath.FromVerticalFov(60, 640, 480);
            Assert.AreEqual(b.Fy, a.Fy, 1e-9);
            Assert.AreEqual(b.Fx, a.Fx, 1e-9);
        }

        [Test]
        public void SymmetricProjectionMatchesFov()
        {
            // Matrix4x4.Perspective(60, 16 / 9, near, far): P11 = 1 / tan(30 deg), P00 = P11 / aspect.
            double p11 = 1.0 / Math.Tan(Math.PI / 6);
            PinholeIntrinsics fromP = IntrinsicsMath.FromProjection(p11 * 1080.0 / 1920.0, p11, 0, 0, 1920, 1080);
            PinholeIntrinsics fromFov = IntrinsicsMath.FromVerticalFov(60, 1920, 1080);
            Assert.AreEqual(fromFov.Fx, fromP.Fx, 1e-9);
            Assert.AreEqual(fromFov.Fy, fromP.Fy, 1e-9);
            Assert.AreEqual(960.0, fromP.Cx, 1e-12);
            Assert.AreEqual(540.0, fromP.Cy, 1e-12);
        }

        [Test]
        public void ProjectionShiftMovesPrincipalPoint()
        {
            // A point straight ahead lands at the principal point: x_ndc = -P02, y_ndc = -P12.
            PinholeIntrinsics k = IntrinsicsMath.FromProjection(1.0, 1.0, 0.2, -0.1, 100, 50);
            Assert.AreEqual((1 - 0.2) / 2 * 100, k.Cx, 1e-12);
            // y_ndc = 0.1 is above the centre, i.e. fewer pixels from the top.
            Assert.AreEqual((1 - 0.1) / 2 * 50, k.Cy, 1e-12);
            Assert.Throws<ArgumentOutOfRangeException>(() => IntrinsicsMath.FromProjection(0, 1, 0, 0, 10, 10));
        }

        [TestCase(0.0)]
        [TestCase(180.0)]
        [TestCase(-10.0)]
        [TestCase(double.NaN)]
        public void BadFovIsRejectedNamingIt(double fov)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => IntrinsicsMath.FromVerticalFov(fov, 640, 480));
            Assert.IsTrue(ex.Message.Contains(fov.ToString()), ex.Message);
        }

        [Test]
        public void BadSizeIsRejected()
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => IntrinsicsMath.FromVerticalFov(60, 0, 480));
            Assert.AreEqual("width", ex.ParamName);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() => IntrinsicsMath.FromVerticalFov(60, 640, -1));
            Assert.AreEqual("height", ex.ParamName);
        }
    }
}
