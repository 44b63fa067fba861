"""`python -m benchmarks [--quick] [--only NAME] [--out DIR]`: run, save JSON, print tables.

Benchmarks are measured, never asserted: nothing here fails a build because a machine is slow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import (
    batch_strategy,
    campaign,
    csv_reading,
    engine_ceiling,
    export_throughput,
    hubspot_import,
    import_memory,
    import_vs_loop,
    process,
    purge,
    quota_utilisation,
    sandbox_ceiling,
    sync,
)
from .chart import render as render_chart
from .common import RESULTS, machine, write_result

BENCHMARKS = {module.NAME: module for module in (
    import_vs_loop, quota_utilisation, engine_ceiling, export_throughput, purge, import_memory,
    sandbox_ceiling, csv_reading, hubspot_import, batch_strategy, process, campaign, sync)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke mode: a minute or two")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append",
                        help="run only this benchmark (repeatable)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args()
    console = Console()
    facts = machine()
    console.print(f"machine: {facts['cpus']} CPUs, Python {facts['python']}, "
                  f"{facts['platform']}, bulkio {facts['bulkio']}")
    for name in args.only or list(BENCHMARKS):
        module = BENCHMARKS[name]
        console.print(f"running {name}{' (quick)' if args.quick else ''} ...")
        figures = module.run(args.quick)
        path = write_result(name, figures, args.out)
        table = Table(title=f"{name} ({path})")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for measure, value in module.rows(figures):
            table.add_row(measure, value)
        console.print(table)
    try:
        chart = render_chart(args.out)
    except ImportError:
        console.print("no chart: matplotlib is not installed (pip install -e .[bench])")
    else:
        if chart is not None:
            console.print(f"chart: {chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
