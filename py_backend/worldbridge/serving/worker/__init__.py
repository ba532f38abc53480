"""The render worker process: one per CPU/GPU slot, driven by the gateway over ZeroMQ.

* :mod:`~worldbridge.serving.worker.main`: the worker loop (``python -m worldbridge.serving.worker``).
* :mod:`~worldbridge.serving.worker.session`: one session's scene memory, reference views and
  frame generator.
"""
