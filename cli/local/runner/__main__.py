"""`python -m cli.local.runner <ML_HOME> <workspace> <job>`: run one job to its end."""

import signal
import sys

# A cancel may arrive while the runner is still importing: remember it from the first instant.
_early: list[int] = []
signal.signal(signal.SIGTERM, lambda signum, frame: _early.append(signum))
signal.signal(signal.SIGINT, lambda signum, frame: _early.append(signum))

if __name__ == "__main__":
    if len(sys.argv) == 4:  # before anything else: a runner killed at any point is noticed (watchdog.py)
        from cli.local.runner.watchdog import start as start_watchdog

        start_watchdog(*sys.argv[1:])

from cli.local.runner.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], canceled_early=_early))
