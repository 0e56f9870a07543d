"""``python bench/peak_rss.py FILE COMMAND...``: run COMMAND, then write its peak resident set
size (KiB, as the kernel reports it when the child is reaped) to FILE; exit with its status.

Why a process in between: on Linux a child's ``ru_maxrss`` starts from the size of the process
that forked it (the address space it shares until ``exec`` is counted as the child's), so a
loader started straight from the benchmark process, grown by the benchmarks before it, would
report that process's size. Started from this small one, the figure is the command's own (at
worst plus this interpreter's few MB).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main(arguments: list[str]) -> int:
    report, command = Path(arguments[0]), arguments[1:]
    child = subprocess.Popen(command)
    try:
        _, status, usage = os.wait4(child.pid, 0)
    except BaseException:
        child.kill()
        child.wait()
        raise
    report.write_text(str(usage.ru_maxrss), encoding="ascii")   # KiB on Linux
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
