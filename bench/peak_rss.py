"""Run a command and write its wall time, peak RSS and exit code as JSON to a file.

    python bench/peak_rss.py OUT.json -- COMMAND ARG...

Why a separate, small process: Linux carries the memory high-water mark of the process that
forks (or vforks) a child into the child's `ru_maxrss` when the child execs. bench/run.py
holds the moto server and its seeded account (hundreds of MB), so a tool it started directly
would report that as its own peak. Started from this stdlib-only process, it reports its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, command = Path(argv[0]), argv[2:]
    started = time.monotonic()
    process = subprocess.Popen(command)  # stdin/stdout/stderr are this process's
    # wait4 gives the rusage of this child alone; ru_maxrss is in KiB on Linux.
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.returncode = code = os.waitstatus_to_exitcode(status)
    out.write_text(json.dumps({"wall_s": wall, "peak_rss_kib": usage.ru_maxrss,
                               "exit_code": code}))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
