// API-surface stub of uGUI (package com.unity.ugui 1.0.0 in Unity 2021.3; assembly
// UnityEngine.UI from com.unity.ugui/Runtime/UGUI/UnityEngine.UI.asmdef): only the members
// the package and its sample use. Signatures are copied from github.com/Unity-Technologies/uGUI,
// tag 2018.4.3f1 (UnityEngine.UI/...) and its com.unity.ugui 2.6.0 mirror
// (com.unity.ugui/Runtime/UGUI/...): these members are the same in both, and so in 1.0.0.
// Bodies never run: the stub is compiled only to type-check the package.
namespace UnityEngine.EventSystems
{
    // uGUI 2018.4.3f1 UnityEngine.UI/EventSystem/UIBehaviour.cs
    public abstract class UIBehaviour : MonoBehaviour
    {
    }
}

namespace UnityEngine.UI
{
    // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/Graphic.cs
    // (the real class also implements ICanvasElement; unused here)
    public abstract class Graphic : UnityEngine.EventSystems.UIBehaviour
    {
        // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/Graphic.cs
        protected Graphic() { }
        // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/Graphic.cs
        public virtual Color color { get { throw null; } set { throw null; } }
        // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/Graphic.cs
        public RectTransform rectTransform { get { throw null; } }
    }

    // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/MaskableGraphic.cs
    // (the real class also implements IClippable, IMaskable and IMaterialModifier; unused here)
    public abstract class MaskableGraphic : Graphic
    {
    }

    // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/RawImage.cs
    public class RawImage : MaskableGraphic
    {
        // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/RawImage.cs
        protected RawImage() { }
        // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/RawImage.cs
        public Texture texture { get { throw null; } set { throw null; } }
    }

    // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/Layout/CanvasScaler.cs
    public class CanvasScaler : UnityEngine.EventSystems.UIBehaviour
    {
        // uGUI 2018.4.3f1 UnityEngine.UI/UI/Core/Layout/CanvasScaler.cs
        protected CanvasScaler() { }
    }
}
