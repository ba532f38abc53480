"""``python -m worldbridge.serving.worker``: run a render worker (see :mod:`.main`)."""

import sys

from worldbridge.serving.worker.main import main

if __name__ == "__main__":
    sys.exit(main())
