using System;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class PosePackingTests
    {
        [Test]
        public void UnityVectorsPackToEngineC2W()
        {
            int checkedCases = 0;
            foreach (PoseVector v in ConventionVectors.Load().Poses)
            {
                if (v.Convention != "UNITY")
                {
                    continue;
                }
                var position = new Vec3(v.UnityPositionM[0], v.UnityPositionM[1], v.UnityPositionM[2]);
                var rotation = new Quat(v.UnityRotationXyzw[0], v.UnityRotationXyzw[1], v.UnityRotationXyzw[2], v.UnityRotationXyzw[3]);
                double[] m = PosePacking.CameraToWorld(position, rotation);
                Assert.AreEqual(16, m.Length);
                for (int i = 0; i < 16; i++)
                {
                    Assert.AreEqual(v.EngineC2W[i], m[i], 1e-9, v.Name + " element " + i);
                }
                checkedCases++;
            }
            Assert.IsTrue(checkedCases >= 3, "expected at least 3 Unity cases, found " + checkedCases);
        }

        [Test]
        public void ConventionTagIsUnity()
        {
            Assert.AreEqual(2, PosePacking.ConventionUnity);
        }

        [Test]
        public void QuaternionIsNormalised()
        {
            double[] unit = PosePacking.CameraToWorld(new Vec3(1, 2, 3), new Quat(0, 0.7071067811865476, 0, 0.7071067811865476));
            double[] scaled = PosePacking.CameraToWorld(new Vec3(1, 2, 3), new Quat(0, 3, 0, 3));
            for (int i = 0; i < 16; i++)
            {
                Assert.AreEqual(unit[i], scaled[i], 1e-12);
            }
        }

        [Test]
        public void RotationIsOrthonormalWithUnitBottomRow()
        {
            Quat q = new Quat(0.1, -0.4, 0.3, 0.8).Normalized();
            double[] m = PosePacking.CameraToWorld(new Vec3(0, 0, 0), q);
            for (int a = 0; a < 3; a++)
            {
                for (int b = 0; b < 3; b++)
                {
                    double dot = m[a] * m[b] + m[4 + a] * m[4 + b] + m[8 + a] * m[8 + b];
                    Assert.AreEqual(a == b ? 1.0 : 0.0, dot, 1e-12);
                }
            }
            Assert.AreEqual(0.0, m[12]);
            Assert.AreEqual(0.0, m[13]);
            Assert.AreEqual(0.0, m[14]);
            Assert.AreEqual(1.0, m[15]);
        }

        [Test]
        public void ZeroQuaternionIsRejectedNamingTheValue()
        {
            var ex = Assert.Throws<ArgumentException>(() => PosePacking.CameraToWorld(new Vec3(0, 0, 0), new Quat(0, 0, 0, 0)));
            Assert.IsTrue(ex.Message.Contains("(0, 0, 0, 0)"), ex.Message);
        }

        [Test]
        public void NonFiniteQuaternionIsRejected()
        {
            var ex = Assert.Throws<ArgumentException>(() => PosePacking.CameraToWorld(new Vec3(0, 0, 0), new Quat(double.NaN, 0, 0, 1)));
            Assert.IsTrue(ex.Message.Contains("NaN"), ex.Message);
        }

        [Test]
        public void NonFinitePositionIsRejected()
        {
            Assert.Throws<ArgumentException>(() => PosePacking.CameraToWorld(new Vec3(double.PositiveInfinity, 0, 0), Quat.Identity));
        }

        [Test]
        public void WritesIntoGivenArray()
        {
            var dst = new double[16];
            PosePacking.CameraToWorld(new Vec3(0, 1.5, -4), Quat.Identity, dst);
            Assert.AreEqual(1.5, dst[7], 0.0);
            Assert.AreEqual(-4.0, dst[11], 0.0);
            Assert.Throws<ArgumentException>(() => PosePacking.CameraToWorld(Vec3.Zero, Quat.Identity, new double[15]));
        }
    }
}
