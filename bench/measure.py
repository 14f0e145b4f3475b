#!/usr/bin/env python3
"""Run one command as a child and print one JSON line with its cost.

    measure.py [--log FILE] [--stdout FILE] [--sync-dir DIR] -- CMD [ARGS...]

Output: {"wallSeconds", "peakRssBytes", "exitCode", ...} where peakRssBytes is
ru_maxrss of the waited-for children (getrusage(RUSAGE_CHILDREN), KiB -> bytes),
i.e. the largest resident set of the command or of any descendant it waited for.
The child's stderr (and its stdout, unless --stdout is given) goes to the log
file, never to the terminal. With --sync-dir, os.sync() runs after the command
and its time is part of wallSeconds, so every producer is charged alike for
getting its bytes to disk. measure.py exits with the command's status
(128+N when it was killed by signal N).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    ap.add_argument("--log", type=Path, help="file for the child's stderr (and stdout without --stdout); default: a temp file")
    ap.add_argument("--stdout", type=Path, help="file for the child's stdout")
    ap.add_argument("--sync-dir", type=Path, help="after the command, os.sync() (timed, included in wallSeconds); DIR must exist")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    args = ap.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("no command given (use: measure.py [options] -- CMD [ARGS...])")

    if args.log is None:
        fd, name = tempfile.mkstemp(prefix="measure-", suffix=".log")
        os.close(fd)
        args.log = Path(name)

    with open(args.log, "ab") as log, open(args.stdout or os.devnull, "wb") as out:
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out if args.stdout else log, stderr=log)
        except OSError as e:
            print(f"measure.py: cannot run {cmd[0]}: {e}", file=sys.stderr)
            return 127
        ran = time.perf_counter()
        sync_seconds = None
        if args.sync_dir is not None:
            os.sync()
            sync_seconds = time.perf_counter() - ran
        wall = time.perf_counter() - start

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = proc.returncode
    result = {
        "wallSeconds": round(wall, 4),
        "peakRssBytes": usage.ru_maxrss * 1024,
        "exitCode": code,
        "commandSeconds": round(ran - start, 4),
        "syncSeconds": None if sync_seconds is None else round(sync_seconds, 4),
        "userSeconds": round(usage.ru_utime, 3),
        "systemSeconds": round(usage.ru_stime, 3),
        "log": str(args.log.resolve()),
        "stdout": str(args.stdout.resolve()) if args.stdout else None,
    }
    print(json.dumps(result), flush=True)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())
