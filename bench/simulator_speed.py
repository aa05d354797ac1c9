"""Speed and volume of the simulator: `python bench/simulator_speed.py PERSONS DAYS [DIR]`.

Prints wall time per phase, rows per entity and the redundancy of person records.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from dagster_project.simulator import simulate


def main() -> None:
    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    root = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp(prefix="simbench"))
    started = time.perf_counter()
    m = simulate(root / "landing", root / "truth", persons=persons, days=days, seed=1)
    wall = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"simulate {persons:,} persons x {days} days: {wall:.1f} s wall, peak RSS {peak_gb:.1f} GB, "
          f"{m['total_rows']:,} rows, {sum(1 for _ in (root / 'landing').rglob('*') if _.is_file()):,} files in {root}")
    for name, rows in m["row_counts"].items():
        print(f"  {name:34s} {rows:>12,}  {m['timings'].get(name + '_s', 0):6.1f} s")
    print(f"  world {m['timings']['world_s']} s, truth {m['timings']['truth_s']} s")
    t = m["truth"]
    print(f"person records {t['person_records']:,}, distinct parties {t['distinct_parties']:,}, "
          f"redundancy {t['redundancy']:.1%}, churn events {t['churn_events']:,}")


if __name__ == "__main__":
    main()
