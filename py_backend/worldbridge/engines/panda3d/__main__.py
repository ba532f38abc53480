"""``python -m worldbridge.engines.panda3d``: the engine client (see :mod:`.client`)."""

from worldbridge.engines.panda3d.client import main

if __name__ == "__main__":
    main()
