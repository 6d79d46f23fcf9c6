"""Start-up time of the verbs that do nothing heavy, as whole processes of the installed `journey`.

Baseline in the same run: `python -c pass` (the interpreter alone). Each command runs several
times; the minimum is the start-up cost without the machine's noise, the median what a user waits.
The commands: `import journey.cli`, `journey --help`, `init`, `cost` and `report` on a workspace
with no runs, `search --help`, and three error paths (a usage mistake, a missing workspace, no runs).

    .venv/bin/python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOURNEY = str(Path(sys.executable).with_name("journey"))


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run([JOURNEY, "init", str(root / "ws")], check=True, capture_output=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import journey.cli": [sys.executable, "-c", "import journey.cli"],
            "journey --help": [JOURNEY, "--help"],
            "journey init DIR": [JOURNEY, "init", "--force", str(root / "fresh")],
            "journey cost (no runs)": [JOURNEY, "cost", "-w", "ws"],
            "journey report (no runs: error)": [JOURNEY, "report", "-w", "ws"],
            "journey search --help": [JOURNEY, "search", "--help"],
            "journey evaluate --limit 0 (usage)": [JOURNEY, "evaluate", "--limit", "0"],
            "journey ask -w missing (error)": [JOURNEY, "ask", "hi", "-w", str(root / "missing")],
        }
        times = {name: [timed(command, root) for _ in range(args.runs)] for name, command in commands.items()}

    baseline = min(times["python -c pass"])
    print(f"{'command':<36} {'min':>7} {'median':>7}  min / python -c pass   ({args.runs} runs each)")
    for name, runs in times.items():
        print(f"{name:<36} {min(runs):6.2f}s {statistics.median(runs):6.2f}s  x{min(runs) / baseline:,.0f}")


if __name__ == "__main__":
    main()
