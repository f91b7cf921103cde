#!/usr/bin/env python3
"""Write maps/x12/837p_elements.tsv: the 005010X222A1 loop and element names, for `scrubber explain`.

The names are the implementation guide's (X12 names), as carried by pyx12's 837P map
(``pyx12/map/837.5010.X222.A1.xml``, pyx12 4.0.0, BSD licence). Deterministic: the same map gives
byte-identical output.

    python tools/build_x12_elements.py            # writes maps/x12/837p_elements.tsv
    python tools/build_x12_elements.py --check    # exit 1 if the file is stale

Rows: ``LOOP<TAB>QUALIFIER<TAB>ELEMENT<TAB>NAME``. ELEMENT ``LOOP`` names the loop itself.
QUALIFIER is the code of the segment's first element when the guide fixes it (``DTP`` with
``472`` is "Date - Service Date"), else ``*``. Elements use the guide's reference form
(``CLM01``, ``SV101-2``). The first row for a key wins.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "maps" / "x12" / "837p_elements.tsv"
MAP_NAME = "837.5010.X222.A1.xml"


def _map_path() -> Path:
    import pyx12

    return Path(pyx12.__file__).resolve().parent / "map" / MAP_NAME


def _ref(xid: str) -> str:
    """``SV101-01`` -> ``SV101-1`` (the contract's reference form)."""
    base, dash, comp = xid.partition("-")
    return f"{base}-{int(comp)}" if dash else base


def rows(map_path: Path) -> list[tuple[str, str, str, str]]:
    # No entity resolution, no network: a map is data, never a reason to fetch anything.
    tree = etree.parse(str(map_path), etree.XMLParser(resolve_entities=False, no_network=True))
    out: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(loop: str, qual: str, ref: str, name: str) -> None:
        name = " ".join(name.split())
        key = (loop, qual, ref)
        if key not in seen and name:
            seen.add(key)
            out.append((loop, qual, ref, name))

    for loop in tree.iter("loop"):
        loop_id = loop.get("xid")
        add(loop_id, "*", "LOOP", loop.findtext("name") or "")
        for segment in loop.findall("segment"):
            first = segment.find("element")
            codes = []
            if first is not None and first.findtext("seq") == "01":
                codes = [c.text for c in first.findall("valid_codes/code")]
            quals = codes if 0 < len(codes) <= 12 else ["*"]
            add(loop_id, "*", segment.get("xid"), segment.findtext("name") or "")
            for qual in quals:
                if qual != "*":
                    add(loop_id, qual, segment.get("xid"), segment.findtext("name") or "")
                for node in segment:
                    if node.tag == "element":
                        add(loop_id, qual, _ref(node.get("xid")), node.findtext("name") or "")
                    elif node.tag == "composite":
                        add(loop_id, qual, _ref(node.get("xid")), node.findtext("name") or "")
                        for sub in node.findall("element"):
                            add(loop_id, qual, _ref(sub.get("xid")), sub.findtext("name") or "")
    return out


def render(map_path: Path) -> str:
    import pyx12

    version = getattr(pyx12, "__version__", "4.0.0")
    lines = [
        "# format: x12-element-names 1",
        "# transaction: 837P 005010X222A1 (ASC X12 Health Care Claim: Professional, with errata A1)",
        f"# source: loop, segment and element names of the 005010X222A1 implementation guide, as carried by pyx12 {version} map/{MAP_NAME} (BSD licence)",
        "# effective: 005010X222A1 (HIPAA 5010, in force since 2012-01-01); names only, no code lists",
        "# built by: python tools/build_x12_elements.py",
        "# columns: LOOP, QUALIFIER (segment's first element code, * = any), ELEMENT (LOOP = the loop's own name), NAME",
    ]
    for row in rows(map_path):
        lines.append("\t".join(row))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = render(_map_path())
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is stale; run python tools/build_x12_elements.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 6} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
