"""``python -m benchmarks.report RESULTS.json ...``: the figures of saved runs as Markdown tables (for the README)."""

from __future__ import annotations

import json
import sys

from benchmarks.harness import Measurement, _fmt


def markdown(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        payload = json.load(handle)
    machine = payload["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    lines = [
        f"**{payload['scale']}** — `{payload['command']}` — {machine['when']}; {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory_gb']} GB, {machine['platform']}; load average at start "
        f"{' '.join(machine['load_average_at_start'])}; {versions}.",
        "",
        "| measurement | value | reference | reference value | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    fields = set(Measurement.__dataclass_fields__)
    for data in payload["measurements"]:
        m = Measurement(**{k: v for k, v in data.items() if k in fields})
        ratio = "" if m.ratio is None else f"{m.ratio:.2f}×"
        met = {True: "yes", False: "**no**", None: ""}[m.met]
        lines.append(
            f"| {m.name} | {_fmt(m.value, m.unit)} | {m.reference} | {_fmt(m.reference_value, m.unit)} | "
            f"{ratio} | {m.target} | {met} |"
        )
    for name, reason in payload.get("skipped", {}).items():
        lines.append(f"\nSkipped `{name}`: {reason}")
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(markdown(path) for path in sys.argv[1:]))
