using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    [TestFixture]
    public class TrajectoriesTests
    {
        private static void AssertLooksAt(TrajectoryPose pose, Vec3 target, string what)
        {
            Vec3 want = (target - pose.Position).Normalized();
            Vec3 forward = pose.Forward;
            Assert.AreEqual(1.0, Vec3.Dot(want, forward), 1e-9, what + " forward " + forward + " want " + want);
        }

        private static void AssertLevelHorizon(TrajectoryPose pose, string what)
        {
            // Right axis stays horizontal (no roll) for look-at poses with world up +Y.
            Vec3 right = pose.Rotation.Rotate(new Vec3(1, 0, 0));
            Assert.AreEqual(0.0, right.Y, 1e-9, what + " right " + right);
            Assert.IsTrue(pose.Rotation.Rotate(Vec3.Up).Y > 0, what + " is upside down");
        }

        [Test]
        public void OrbitKeepsDistanceAndLooksAtTarget()
        {
            var center = new Vec3(1, 2, 3);
            List<TrajectoryPose> poses = Trajectories.Orbit(center, 4.0, 1.5, 0, 360, 24);
            Assert.AreEqual(24, poses.Count);
            double expectedDistance = Math.Sqrt(4.0 * 4.0 + 1.5 * 1.5);
            for (int i = 0; i < poses.Count; i++)
            {
                Assert.AreEqual(expectedDistance, Vec3.Distance(poses[i].Position, center), 1e-9, "frame " + i);
                Assert.AreEqual(center.Y + 1.5, poses[i].Position.Y, 1e-12);
                AssertLooksAt(poses[i], center, "frame " + i);
                AssertLevelHorizon(poses[i], "frame " + i);
            }
            // A full circle does not repeat its first pose.
            Assert.IsTrue(Vec3.Distance(poses[0].Position, poses[23].Position) > 0.5);
        }

        [Test]
        public void OrbitStartAngleZeroLooksAlongPlusZ()
        {
            List<TrajectoryPose> poses = Trajectories.Orbit(Vec3.Zero, 2.0, 0.0, 0, 90, 2);
            Assert.AreEqual(-2.0, poses[0].Position.Z, 1e-12);
            Assert.AreEqual(1.0, poses[0].Forward.Z, 1e-12);
            Assert.AreEqual(1.0, poses[0].Rotation.W, 1e-12);
            // Sweeping 90 degrees ends exactly at the last frame.
            Assert.AreEqual(-2.0, poses[1].Position.X, 1e-12);
        }

        [Test]
        public void DollyIsEvenlySpacedAndLooksAtTarget()
        {
            var target = new Vec3(0, 0, 10);
            List<TrajectoryPose> poses = Trajectories.Dolly(new Vec3(-2, 1, 0), new Vec3(2, 1, 0), target, 5);
            Assert.AreEqual(5, poses.Count);
            for (int i = 0; i < 5; i++)
            {
                Assert.AreEqual(-2.0 + i, poses[i].Position.X, 1e-12);
                AssertLooksAt(poses[i], target, "frame " + i);
            }
            List<TrajectoryPose> along = Trajectories.Dolly(Vec3.Zero, new Vec3(0, 0, 5), null, 3);
            Assert.AreEqual(1.0, along[1].Forward.Z, 1e-12);
            Assert.Throws<ArgumentException>(() => Trajectories.Dolly(Vec3.Zero, Vec3.Zero, null, 3));
        }

        [Test]
        public void WalkFollowsWaypointsAtConstantSpeed()
        {
            var waypoints = new List<Vec3> { new Vec3(0, 1, 0), new Vec3(4, 1, 0), new Vec3(4, 1, 4) };
            List<TrajectoryPose> poses = Trajectories.Walk(waypoints, 9);
            Assert.AreEqual(9, poses.Count);
            Assert.AreEqual(0.0, Vec3.Distance(poses[0].Position, waypoints[0]), 1e-12);
            Assert.AreEqual(0.0, Vec3.Distance(poses[8].Position, waypoints[2]), 1e-12);
            for (int i = 1; i < poses.Count; i++)
            {
                Assert.AreEqual(1.0, Vec3.Distance(poses[i - 1].Position, poses[i].Position), 1e-9, "step " + i);
            }
            Assert.AreEqual(1.0, poses[1].Forward.X, 1e-12);
            Assert.AreEqual(1.0, poses[7].Forward.Z, 1e-12);
            Assert.Throws<ArgumentException>(() => Trajectories.Walk(new List<Vec3> { Vec3.Zero, Vec3.Zero }, 3));
        }

        [Test]
        public void RandomWalkRespectsCollisionPredicateAndBounds()
        {
            // A wall at x = 1 blocks every segment that crosses it.
            Func<Vec3, Vec3, bool> wall = (a, b) => (a.X - 1.0) * (b.X - 1.0) <= 0;
            var min = new Vec3(-5, 0, -5);
            var max = new Vec3(5, 3, 5);
            int calls = 0;
            Func<Vec3, Vec3, bool> counted = (a, b) => { calls++; return wall(a, b); };
            List<TrajectoryPose> poses = Trajectories.RandomWalk(new Vec3(0, 1.5, 0), min, max, 0.5, 30, 10, 200,
                new Random(42), counted, 64);
            Assert.AreEqual(200, poses.Count);
            Assert.IsTrue(calls >= 199);
            for (int i = 0; i < poses.Count; i++)
            {
                Vec3 p = poses[i].Position;
                Assert.IsTrue(p.X < 1.0, "frame " + i + " crossed the wall at " + p);
                Assert.IsTrue(p.X >= min.X && p.X <= max.X && p.Z >= min.Z && p.Z <= max.Z, "frame " + i + " left the box at " + p);
                if (i > 0)
                {
                    Assert.AreEqual(0.5, Vec3.Distance(poses[i - 1].Position, p), 1e-9);
                    Assert.IsTrue(!wall(poses[i - 1].Position, p));
                }
                double pitch = Math.Asin(-poses[i].Forward.Y) * 180.0 / Math.PI;
                Assert.IsTrue(Math.Abs(pitch) <= 10.0 + 1e-9, "pitch " + pitch);
            }
        }

        [Test]
        public void RandomWalkIsReproducibleFromSeed()
        {
            List<TrajectoryPose> a = Trajectories.RandomWalk(Vec3.Zero, new Vec3(-3, -1, -3), new Vec3(3, 1, 3), 0.3, 20, 5, 30, new Random(5), null, 16);
            List<TrajectoryPose> b = Trajectories.RandomWalk(Vec3.Zero, new Vec3(-3, -1, -3), new Vec3(3, 1, 3), 0.3, 20, 5, 30, new Random(5), null, 16);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.AreEqual(a[i].Position, b[i].Position);
                Assert.AreEqual(a[i].Rotation, b[i].Rotation);
            }
        }

        [Test]
        public void RandomWalkThatCannotMoveSaysWhere()
        {
            var ex = Assert.Throws<InvalidOperationException>(() => Trajectories.RandomWalk(
                new Vec3(0, 0, 0), new Vec3(-1, -1, -1), new Vec3(1, 1, 1), 0.5, 30, 0, 5, new Random(1), (a, b) => true, 8));
            Assert.IsTrue(ex.Message.Contains("(0, 0, 0)"), ex.Message);
        }

        [Test]
        public void LookRotationMatchesUnityForAxes()
        {
            // Quaternion.LookRotation(Vector3.right) is (0, 0.7071, 0, 0.7071) in Unity.
            Quat q = Quat.LookRotation(new Vec3(1, 0, 0), Vec3.Up);
            Assert.AreEqual(0.0, q.X, 1e-12);
            Assert.AreEqual(Math.Sqrt(0.5), q.Y, 1e-12);
            Assert.AreEqual(0.0, q.Z, 1e-12);
            Assert.AreEqual(Math.Sqrt(0.5), q.W, 1e-12);
            // Looking straight down keeps a valid rotation.
            Quat down = Quat.LookRotation(new Vec3(0, -1, 0), Vec3.Up);
            Assert.AreEqual(-1.0, down.Rotate(Vec3.Forward).Y, 1e-12);
        }

        [Test]
        public void BadParametersAreRejected()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => Trajectories.Orbit(Vec3.Zero, 0, 1, 0, 360, 10));
            Assert.Throws<ArgumentOutOfRangeException>(() => Trajectories.Orbit(Vec3.Zero, 1, 1, 0, 360, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => Trajectories.RandomWalk(new Vec3(9, 0, 0),
                new Vec3(-1, -1, -1), new Vec3(1, 1, 1), 0.5, 30, 0, 5, new Random(1), null, 8));
        }
    }
}
