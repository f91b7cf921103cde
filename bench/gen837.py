"""Generate large synthetic 837P files (no real data) for streaming tests and benchmarks.

    python bench/gen837.py OUT.837 --claims 100000 [--per-st 5000] [--style std|pipe|nobreak] [--bad 0.1] [--seed 1]

Writes as it goes (memory stays flat): 2-4 service lines a claim, a mix of subscriber-is-patient
and dependent claims, back-pain diagnoses with therapy, E/M and imaging lines, and a share of faulty
claims (pointer past the last diagnosis, missing pointer, a header code M545). Every person and
identifier is made up.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

STYLES = {
    # element, component, repetition, terminator, line break
    "std": ("*", ":", "^", "~", "\n"),
    "crlf": ("*", ":", "^", "~", "\r\n"),
    "pipe": ("|", ">", "^", "~", "\r\n"),
    "nobreak": ("*", ":", "^", "~", ""),
}
DX = ["M5450", "M546", "M542", "M5416", "M7918", "M5459", "M5126", "S39012A", "M47816", "M9903"]
LINES = [("99213", "125"), ("97110", "45"), ("97140", "40"), ("97530", "50"), ("72146", "480"), ("97012", "30")]
NPI = "1234567893"  # check digit valid (Luhn with 80840)


def generate(path: Path, claims: int, per_st: int = 5000, style: str = "std", bad: float = 0.1, seed: int = 1) -> int:
    e, c, r, t, nl = STYLES[style]
    rnd = random.Random(seed)
    out = open(path, "w", encoding="ascii", newline="")
    w = out.write

    def seg(*elements: str) -> None:
        w(e.join(elements) + t + nl)

    isa = e.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SUBMITTER01".ljust(15), "ZZ", "RECEIVER01".ljust(15),
                  "250401", "1200", r, "00501", "000000001", "0", "T", c])
    w(isa + t + nl)
    seg("GS", "HC", "SUBMITTER01", "RECEIVER01", "20250401", "1200", "1", "X", "005010X222A1")
    n_st = 0
    made = 0
    while made < claims:
        n_st += 1
        st = f"{n_st:04d}"
        count = 0

        def s(*elements: str) -> None:
            nonlocal count
            count += 1
            seg(*elements)

        s("ST", "837", st, "005010X222A1")
        s("BHT", "0019", "00", f"B{n_st}", "20250401", "1200", "CH")
        s("NM1", "41", "2", "SAMPLE BILLING SERVICE", "", "", "", "", "46", "SUBMITTER01")
        s("PER", "IC", "SAMPLE CONTACT", "TE", "5555550100")
        s("NM1", "40", "2", "SAMPLE PAYER CLEARING", "", "", "", "", "46", "RECEIVER01")
        hl = 0
        in_st = min(per_st, claims - made)
        done_in_st = 0
        while done_in_st < in_st:
            hl += 1
            bp = hl
            s("HL", str(bp), "", "20", "1")
            s("NM1", "85", "2", "SAMPLE CLINIC", "", "", "", "", "XX", NPI)
            s("N3", "100 SAMPLE ST")
            s("N4", "SAMPLETOWN", "PA", "170000000")
            s("REF", "EI", "990000001")
            for _ in range(min(rnd.randint(5, 40), in_st - done_in_st)):
                if done_in_st >= in_st:
                    break
                hl += 1
                dependent = rnd.random() < 0.25
                sub = hl
                s("HL", str(sub), str(bp), "22", "1" if dependent else "0")
                s("SBR", "P", "18" if not dependent else "", "", "", "", "", "", "", "CI")
                s("NM1", "IL", "1", "TESTPATIENT", f"SUB{made}", "", "", "", "MI", f"ZZM{made:08d}")
                s("N3", "200 SAMPLE AVE")
                s("N4", "SAMPLETOWN", "PA", "170000000")
                s("DMG", "D8", "19700101", "F")
                s("NM1", "PR", "2", "SAMPLE PAYER", "", "", "", "", "PI", f"PAYER0{rnd.randint(1, 3)}")
                if dependent:
                    hl += 1
                    s("HL", str(hl), str(sub), "23", "0")
                    s("PAT", "19")
                    s("NM1", "QC", "1", "TESTPATIENT", f"DEP{made}")
                    s("N3", "200 SAMPLE AVE")
                    s("N4", "SAMPLETOWN", "PA", "170000000")
                    s("DMG", "D8", "20100101", "M")
                made += 1
                done_in_st += 1
                n_dx = rnd.randint(1, 4)
                dx = rnd.sample(DX, n_dx)
                fault = rnd.random() < bad
                kind = rnd.randint(0, 2) if fault else -1
                if kind == 2:
                    dx[0] = "M545"
                lines = [rnd.choice(LINES) for _ in range(rnd.randint(2, 4))]
                total = sum(int(amount) for _, amount in lines)
                s("CLM", f"GEN{made:07d}", str(total), "", "", f"11{c}B{c}1", "Y", "A", "Y", "Y")
                s("HI", *[("ABK" if i == 0 else "ABF") + c + code for i, code in enumerate(dx)])
                for n, (cpt, amount) in enumerate(lines, start=1):
                    pointers = c.join(str(p) for p in range(1, min(n_dx, 4) + 1))
                    if kind == 0 and n == len(lines):
                        pointers = f"1{c}{n_dx + 1}"
                    if kind == 1 and n == 1:
                        pointers = ""
                    s("LX", str(n))
                    elements = ["SV1", f"HC{c}{cpt}", amount, "UN", "1", "", ""]
                    if pointers:
                        elements.append(pointers)
                    while not elements[-1]:
                        elements.pop()
                    s(*elements)
                    s("DTP", "472", "D8", "20250310")
        count += 1
        seg("SE", str(count), st)
    seg("GE", str(n_st), "1")
    seg("IEA", "1", "000000001")
    out.close()
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--claims", type=int, default=10000)
    ap.add_argument("--per-st", type=int, default=5000)
    ap.add_argument("--style", choices=sorted(STYLES), default="std")
    ap.add_argument("--bad", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    n = generate(args.out, args.claims, args.per_st, args.style, args.bad, args.seed)
    print(f"{args.out}: {n} claims, {args.out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
