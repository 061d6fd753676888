"""The one place where errors become messages and exit codes.

Commands raise; ``run`` catches what a user can cause (configuration
errors, bad arguments) and prints it to stderr without a traceback. Exit
codes are docker compose's: 1 for any error (compose v2 uses 1 for invalid
projects too), 130 after Ctrl-C. Imports nothing heavy: the error classes
are imported when an error happens.
"""
from __future__ import annotations

import sys
from typing import Callable

EXIT_ERROR = 1


def run(command: Callable[[], int | None]) -> int:
    """Run ``command`` and turn the errors a user can cause into a message."""
    from orchestrator.config.errors import ConfigError
    try:
        return command() or 0
    except ConfigError as error:
        text = str(error)
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
