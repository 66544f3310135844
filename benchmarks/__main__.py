"""``python -m benchmarks [--scale board|national|international] [--json OUT]``: run the speed suite."""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from benchmarks.generate import SCALES
from benchmarks.harness import format_table, machine_info, write_json
from benchmarks.suite import SECTIONS, Context, run_sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Speed of scoring, peers, imports, autosave and pages, each beside a reference measured "
        "in the same run. (Speed only: peer comparison in the app is a different thing.)",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="national")
    parser.add_argument("--json", metavar="OUT", help="write every figure and the machine's details here")
    parser.add_argument("--only", help=f"comma-separated sections (default: all): {', '.join(SECTIONS)}")
    parser.add_argument("--skip", help="comma-separated sections to leave out")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median; at least 3)")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=None,
        help="answers imported in the import section (default: every answer of the scale, at most 200,000)",
    )
    parser.add_argument(
        "--saves", type=int, default=200, help="answers saved one by one in the autosave section"
    )
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    names = [n.strip() for n in args.only.split(",")] if args.only else list(SECTIONS)
    names = [n for n in names if n not in set((args.skip or "").split(","))]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")

    machine = machine_info()
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, "
        f"{machine['platform']}; load {' '.join(machine['load_average_at_start'])}",
        flush=True,
    )
    start = time.perf_counter()
    ctx = Context(
        scale=args.scale,
        runs=args.runs,
        import_rows=args.import_rows,
        saves=args.saves,
        log=lambda text: print(text, flush=True),
    )
    measurements, skipped = run_sections(ctx, names)
    print()
    print(format_table(measurements))
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")
    print(f"\n{args.scale} scale, {time.perf_counter() - start:.0f} s in all")
    if args.json:
        command = "python -m benchmarks " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        write_json(
            args.json,
            scale=args.scale,
            measurements=measurements,
            skipped=skipped,
            machine=machine,
            command=command,
        )
        print(f"figures written to {args.json}")
    return 1 if any(m.met is False for m in measurements) else 0


if __name__ == "__main__":
    sys.exit(main())
