"""``python -m lab.cgexec FILE... -- ARGV...``: join cgroups, then become ARGV.

Joining before ``exec`` puts every byte and cycle of the worker in its cgroup from the
first instruction, and avoids ``preexec_fn`` in a threaded supervisor.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    if "--" not in argv:
        sys.exit("usage: python -m lab.cgexec CGROUP_PROCS_FILE... -- COMMAND [ARG...]")
    sep = argv.index("--")
    files, command = argv[:sep], argv[sep + 1:]
    pid = str(os.getpid())
    for path in files:
        with open(path, "w") as f:
            f.write(pid)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
