#!/usr/bin/env python
"""Django's command-line utility for Resync."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a management command; a configuration error is one clear line and exit 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        print(f"resync: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
