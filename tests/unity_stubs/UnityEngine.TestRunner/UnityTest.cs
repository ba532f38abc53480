// API-surface stub of the Unity Test Framework's runtime assembly (package com.unity.test-framework
// 1.1.x, assembly UnityEngine.TestRunner from UnityEngine.TestRunner/UnityEngine.TestRunner.asmdef):
// only the members Tests/Runtime uses. Bodies never run: the stub is compiled only to type-check.
using System;

namespace UnityEngine.TestTools
{
    // com.unity.test-framework UnityEngine.TestRunner/NUnitExtensions/Attributes/UnityTestAttribute.cs
    // (docs.unity3d.com/Packages/com.unity.test-framework@1.1/manual/reference-attribute-unitytest.html):
    // marks a test method returning IEnumerator that runs as a coroutine, one step per frame.
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
    public class UnityTestAttribute : Attribute
    {
        public UnityTestAttribute() { }
    }
}
