"""``python -m etl.pipeline --sistemas X,Y --data-inicial D [--data-final D]``."""

from __future__ import annotations

import sys

from etl.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
