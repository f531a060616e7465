"""Field-suggestion accuracy on generated invoices and contracts, read by the product's OCR.

Usage: python bench/fields.py [--per-kind N] [--first-seed S]

Each document comes from ``tests/paperwork.py`` (seeded: the same seeds always draw the same
pages): paper VAT invoices, 数电票, English invoices and Chinese contracts. Each page is read
by the product's default engines, then ``suggest_metadata`` suggests its fields; a field is
right when the suggested value equals the one printed. Prints, per kind and overall, the
share right for the invoice (or contract) number, the date, the total and both parties, and
the documents where all five were right. Goal: each at least 95 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexing.extract import ExtractOptions, extract, open_engines, suggest_metadata  # noqa: E402
from tests import documents as docs  # noqa: E402
from tests import paperwork  # noqa: E402

CHECKS = ("number", "date", "total", "first party", "second party")


def names(kind: str) -> dict[str, str]:
    if kind == "contract":
        return {"number": "contract_number", "date": "sign_date", "total": "contract_amount",
                "first party": "party_a", "second party": "party_b"}  # fmt: skip
    return {"number": "invoice_number", "date": "invoice_date", "total": "total",
            "first party": "buyer", "second party": "seller"}  # fmt: skip


def truth_key(kind: str, check: str) -> str:
    return "total" if check == "total" else names(kind)[check]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100)
    args = parser.parse_args()
    engines = open_engines("auto", "chi_sim+eng")
    right: dict[str, dict[str, int]] = {
        k: dict.fromkeys((*CHECKS, "all"), 0) for k in paperwork.KINDS
    }
    misses: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-fields-") as folder:
        for kind in paperwork.KINDS:
            for seed in range(args.first_seed, args.first_seed + args.per_kind):
                paper = paperwork.generate(kind, seed)
                path = docs.write_png(paper.image, Path(folder) / f"{kind}-{seed}.png")
                text = extract(path, options=ExtractOptions(), engines=engines).text
                fields = suggest_metadata(text).fields
                ok = 0
                for check in CHECKS:
                    found = fields.get(names(kind)[check])
                    wanted = paper.truth[truth_key(kind, check)]
                    if found is not None and found.value == wanted:
                        right[kind][check] += 1
                        ok += 1
                    else:
                        misses.append(
                            f"{kind} seed {seed} {check}: {found.value if found else None!r} != {wanted!r}"
                        )
                right[kind]["all"] += ok == len(CHECKS)
    seconds = time.perf_counter() - start
    n = args.per_kind
    print(
        f"{n} documents per kind, seeds {args.first_seed}..{args.first_seed + n - 1}, {seconds:.0f} s"
    )
    print("| kind | " + " | ".join(CHECKS) + " | all five |")
    print("| --- |" + " ---: |" * (len(CHECKS) + 1))
    for kind in paperwork.KINDS:
        cells = " | ".join(f"{100 * right[kind][c] / n:.0f} %" for c in (*CHECKS, "all"))
        print(f"| {kind} | {cells} |")
    total = n * len(paperwork.KINDS)
    overall = {c: sum(right[k][c] for k in paperwork.KINDS) for c in (*CHECKS, "all")}
    print(
        "| all kinds | "
        + " | ".join(f"{100 * overall[c] / total:.1f} %" for c in (*CHECKS, "all"))
        + " |"
    )
    worst = min(overall[c] / total for c in CHECKS)
    print(f"goal: every field right on at least 95 %: {'met' if worst >= 0.95 else 'missed'} "
          f"(lowest {100 * worst:.1f} %)")  # fmt: skip
    for miss in misses:
        print("  miss:", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
