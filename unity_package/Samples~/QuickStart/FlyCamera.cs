using UnityEngine;

namespace WorldBridge.Samples
{
    /// <summary>WASD + QE to move, right mouse button to look around (legacy Input Manager).</summary>
    public sealed class FlyCamera : MonoBehaviour
    {
        [SerializeField, Tooltip("Movement speed, metres per second.")]
        private float speed = 3f;

        [SerializeField, Tooltip("Mouse look sensitivity, degrees per mouse unit.")]
        private float lookSensitivity = 3f;

        private float _yaw;
        private float _pitch;

        private void Start()
        {
            Vector3 euler = transform.rotation.eulerAngles;
            _yaw = euler.y;
            _pitch = euler.x > 180 ? euler.x - 360 : euler.x;
        }

        private void Update()
        {
            if (Input.GetMouseButton(1))
            {
                _yaw += Input.GetAxis("Mouse X") * lookSensitivity;
                _pitch = Mathf.Clamp(_pitch - Input.GetAxis("Mouse Y") * lookSensitivity, -85f, 85f);
                transform.rotation = Quaternion.Euler(_pitch, _yaw, 0);
            }
            var move = new Vector3(Input.GetAxis("Horizontal"), 0, Input.GetAxis("Vertical"));
            if (Input.GetKey(KeyCode.E))
            {
                move.y += 1;
            }
            if (Input.GetKey(KeyCode.Q))
            {
                move.y -= 1;
            }
            transform.position += transform.rotation * move * (speed * Time.deltaTime);
        }
    }
}
