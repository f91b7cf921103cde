"""Generators of the large and repetitive hostile inputs the limits are for (synthetic data only).

Each generator writes a file as it goes (memory stays flat) and takes a size, so the tests can
make small versions of what ``bench/memory.py`` measures at full size:

- ``nm1_loop(n)``: one subscriber loop (2000B) holding ``n`` NM1 segments, then one claim;
- ``ref_2010aa(n)``: ``n`` REF segments in the billing provider's name loop (2010AA);
- ``empty_st(n)``: ``n`` empty transaction sets (ST/SE), each SE01 wrong, then one with a claim;
- ``empty_isa(n)``: ``n`` empty interchanges (ISA/IEA), then one with a claim;
- ``sv107_components(n)``: two SV107 of ``n`` components each;
- ``big_segments(n, size)``: ``n`` NTE segments of ``size`` bytes in one claim;
- ``nested_hl(n)``: ``n`` subscriber levels, each the child of the previous, with one claim at the end;
- ``stray_segment(claims)``: a file of ``claims`` claims in 2 transaction sets with one stray
  segment between them (unusable, EN009, with and without ``--jobs``).

    python bench/hostile.py KIND N OUT.837
"""

from __future__ import annotations

import sys
from pathlib import Path

ISA = ("ISA*00*          *00*          *ZZ*SENDER01       *ZZ*RECEIVER01     *250315*1200*^*00501*{ctl:09d}*0*T*:~\n")
GS = "GS*HC*SENDER01*RECEIVER01*20250315*1200*1*X*005010X222A1~\n"
HEADER = ("BHT*0019*00*BATCH0001*20250315*1200*CH~\nNM1*41*2*SAMPLE BILLING SERVICE*****46*SUBMIT01~\n"
          "PER*IC*SAMPLE CONTACT*TE*5555550100~\nNM1*40*2*SAMPLE CLEARINGHOUSE*****46*RECV01~\n")
BILLING = ("HL*1**20*1~\nPRV*BI*PXC*207Q00000X~\nNM1*85*2*SAMPLE CLINIC ONE*****XX*1234567893~\n"
           "N3*100 SAMPLE ST~\nN4*SAMPLETOWN*NY*100010001~\nREF*EI*990000001~\n")
SUBSCRIBER = ("HL*{hl}*{parent}*22*0~\nSBR*P*18*GRP00001******CI~\nNM1*IL*1*TESTPATIENT*BRAVO****MI*ZZM00000001~\n"
              "N3*101 SAMPLE ST~\nN4*SAMPLETOWN*NY*10001~\nDMG*D8*19710215*F~\nNM1*PR*2*SAMPLE PAYER ONE*****PI*PAYER01~\n")
CLAIM = ("CLM*{id}*150***11:B:1*Y*A*Y*Y~\nHI*ABK:M5450*ABF:M546~\nLX*1~\nSV1*HC:99213*100*UN*1***{ptr}~\n"
         "DTP*472*D8*20250310~\nLX*2~\nSV1*HC:97110*50*UN*1***1~\nDTP*472*D8*20250310~\n")


class _Out:
    """Writes segments and counts those of the open transaction set (for SE01)."""

    def __init__(self, path: Path):
        self.fh = open(path, "w", encoding="ascii", newline="")
        self.count = 0

    def w(self, text: str) -> None:
        self.fh.write(text)
        self.count += text.count("~")

    def st(self, control: str = "0001") -> None:
        self.count = 0
        self.w(f"ST*837*{control}*005010X222A1~\n")

    def se(self, control: str = "0001", count: int | None = None) -> None:
        self.fh.write(f"SE*{self.count + 1 if count is None else count}*{control}~\n")

    def close(self, groups: int = 1, ctl: int = 1) -> None:
        self.fh.write(f"GE*{groups}*1~\nIEA*1*{ctl:09d}~\n")
        self.fh.close()


def _open(path: Path, ctl: int = 1) -> _Out:
    out = _Out(path)
    out.fh.write(ISA.format(ctl=ctl) + GS)
    return out


def _one_claim(out: _Out, hl: int = 2, parent: int = 1, claim_id: str = "HOSTILE-1", ptr: str = "1:2") -> None:
    out.w(SUBSCRIBER.format(hl=hl, parent=parent))
    out.w(CLAIM.format(id=claim_id, ptr=ptr))


def nm1_loop(path: Path, n: int) -> Path:
    out = _open(path)
    out.st()
    out.w(HEADER + BILLING + SUBSCRIBER.format(hl=2, parent=1))
    line = "NM1*PR*2*SAMPLE PAYER ONE*****PI*PAYER01~\n"
    for _ in range(n // 1000):
        out.w(line * 1000)
    out.w(line * (n % 1000))
    out.w(CLAIM.format(id="HOSTILE-1", ptr="1:2"))
    out.se()
    out.close()
    return path


def ref_2010aa(path: Path, n: int) -> Path:
    out = _open(path)
    out.st()
    out.w(HEADER + BILLING)
    line = "REF*EI*990000001~\n"
    for _ in range(n // 1000):
        out.w(line * 1000)
    out.w(line * (n % 1000))
    _one_claim(out)
    out.se()
    out.close()
    return path


def empty_st(path: Path, n: int) -> Path:
    out = _open(path)
    for i in range(n):
        out.fh.write(f"ST*837*{i + 2:04d}*005010X222A1~\nSE*9*{i + 2:04d}~\n")
    out.st()
    out.w(HEADER + BILLING)
    _one_claim(out)
    out.se()
    out.fh.write(f"GE*{n + 1}*1~\nIEA*1*000000001~\n")
    out.fh.close()
    return path


def empty_isa(path: Path, n: int) -> Path:
    with open(path, "w", encoding="ascii", newline="") as fh:
        for i in range(n):
            fh.write(ISA.format(ctl=i + 2) + f"IEA*0*{i + 2:09d}~\n")
    with open(path, "a", encoding="ascii", newline="") as fh:
        fh.write(ISA.format(ctl=1) + GS)
    out = _Out.__new__(_Out)
    out.fh = open(path, "a", encoding="ascii", newline="")
    out.count = 0
    out.st()
    out.w(HEADER + BILLING)
    _one_claim(out)
    out.se()
    out.close()
    return path


def sv107_components(path: Path, n: int) -> Path:
    out = _open(path)
    out.st()
    out.w(HEADER + BILLING)
    ptr = ":".join(["1"] * n)
    out.w(SUBSCRIBER.format(hl=2, parent=1))
    out.w(CLAIM.format(id="HOSTILE-1", ptr=ptr).replace("SV1*HC:97110*50*UN*1***1~", f"SV1*HC:97110*50*UN*1***{ptr}~"))
    out.se()
    out.close()
    return path


def big_segments(path: Path, n: int, size: int = 1 << 20) -> Path:
    out = _open(path)
    out.st()
    out.w(HEADER + BILLING)
    out.w(SUBSCRIBER.format(hl=2, parent=1))
    out.w(CLAIM.format(id="HOSTILE-1", ptr="1:2"))
    text = "NTE*ADD*" + "A" * (size - 20) + "~\n"
    for _ in range(n):
        out.w(text)
    out.se()
    out.close()
    return path


def nested_hl(path: Path, n: int) -> Path:
    out = _open(path)
    out.st()
    out.w(HEADER + BILLING)
    sub = ("HL*{hl}*{parent}*22*1~\nSBR*P*18*GRP00001******CI~\nNM1*IL*1*TESTPATIENT*BRAVO****MI*ZZM00000001~\n"
           "NM1*PR*2*SAMPLE PAYER ONE*****PI*PAYER01~\n")
    for i in range(n):
        out.w(sub.format(hl=i + 2, parent=i + 1))
    out.w(CLAIM.format(id="HOSTILE-1", ptr="1:2"))
    out.se()
    out.close()
    return path


def stray_segment(path: Path, claims: int, stray: bool = True) -> Path:
    """``claims`` claims in two transaction sets, a stray ``REF`` between them (none without
    ``stray``: then a plain file)."""
    out = _open(path)
    half = claims // 2
    for t, count in ((1, half), (2, claims - half)):
        control = f"{t:04d}"
        out.st(control)
        out.w(HEADER + BILLING)
        hl = 1
        for i in range(count):
            hl += 1
            _one_claim(out, hl=hl, parent=1, claim_id=f"STRAY-{t}-{i}")
        out.se(control)
        if t == 1 and stray:
            out.fh.write("REF*EI*990000001~\n")
    out.fh.write("GE*2*1~\nIEA*1*000000001~\n")
    out.fh.close()
    return path


KINDS = {
    "nm1_loop": nm1_loop, "ref_2010aa": ref_2010aa, "empty_st": empty_st, "empty_isa": empty_isa,
    "sv107_components": sv107_components, "big_segments": big_segments, "nested_hl": nested_hl,
    "stray_segment": stray_segment,
}


if __name__ == "__main__":
    kind, n, out_path = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    KINDS[kind](out_path, n)
    print(f"{out_path}: {out_path.stat().st_size / 1e6:.1f} MB")
