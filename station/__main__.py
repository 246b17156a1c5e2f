"""``python -m station``: the same as the ``nordic-station`` command."""

import sys

from station.cli import main

sys.exit(main())
