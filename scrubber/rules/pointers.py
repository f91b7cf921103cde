"""Diagnosis pointer linkage (SV107 against the 2300 HI diagnoses)."""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.findings import Finding
from scrubber.x12.model import Claim
from scrubber.rules.base import Context, Rule


class PointerMissing(Rule):
    """Service line without diagnosis pointers (SV107 absent).

    ## What it does
    Flags a 2400 service line whose SV1 has no SV107 (Composite Diagnosis Code Pointer).

    ## Why is this bad
    SV107-1 is required on every 837P service line: it names the diagnosis (HI position) that
    justifies the procedure. Payers reject a line without it (277CA A6:477).

    ## Example
    `SV1*HC:99213*125*UN*1***~` (no pointer)

    ## Use instead
    `SV1*HC:99213*125*UN*1***1~` (pointing at HI01)

    ## References
    005010X222A1 section 2.4, loop 2400 SV1, element SV107.
    """

    code = "DP001"
    name = "pointer-missing"
    summary = "SV107 diagnosis pointer is missing on a service line"
    ack = "A6:477"
    source = "005010X222A1 2400 SV107 (required)"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            if not sv1.comp(7, 1):
                yield self.finding(
                    sv1,
                    f"Service line {line.number} ({line.procedure or 'no procedure'}) has no diagnosis pointer "
                    f"(SV107-1); point it at the HI position that supports the procedure.",
                    element="SV107-1",
                    value=sv1.el(7) or None,
                )


class PointerUnfilled(Rule):
    """Diagnosis pointer reaches an HI position that holds no diagnosis.

    ## What it does
    Flags each SV107 pointer whose value (1-12) names an HI position that is not filled on the
    claim, e.g. pointer 3 when the HI segment carries two codes.

    ## Why is this bad
    The payer cannot link the procedure to a diagnosis; the claim is rejected (277CA A7:477)
    and comes back weeks later.

    ## Example
    `HI*ABK:M5450*ABF:M546~` ... `SV1*HC:97110*80*UN*2***1:3~`

    ## Use instead
    `SV1*HC:97110*80*UN*2***1:2~`, or add the missing diagnosis as HI03.

    ## References
    005010X222A1 2400 SV107-1..4: "points to the diagnosis codes in the 2300 HI segment".
    """

    code = "DP002"
    name = "pointer-unfilled"
    summary = "SV107 pointer points at an HI position with no diagnosis"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107, 2300 HI"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        filled = {dx.position for dx in claim.diagnoses if dx.code}
        count = len(filled)
        for line in claim.lines:
            for index, raw in enumerate(line.pointers, start=1):
                pointer = _POINTERS.get(raw)  # the HI position a pointer names (1-12), or None
                if pointer is None or pointer in filled:
                    continue
                yield self.finding(
                    line.sv1,
                    f"Service line {line.number} ({line.procedure or 'no procedure'}) points at diagnosis "
                    f"{pointer} (HI{pointer:02d}) but the claim has "
                    + (f"{count} diagnosis code{'s' if count != 1 else ''}" if count else "no diagnosis code")
                    + (f" (position{'s' if count > 1 else ''} {_positions(filled)})" if count else "")
                    + "; point it at a filled position or add the code.",
                    element=f"SV107-{index}",
                    value=raw,
                )


class PointerInvalid(Rule):
    """Diagnosis pointer that is not a whole number from 1 to 12.

    ## What it does
    Flags each SV107 component that is not an integer between 1 and 12 (``A``, ``0``, ``13``,
    ``1.5``, a diagnosis code sent in place of the pointer).

    ## Why is this bad
    A pointer is a position in the HI segment (1-12), not a code. Anything else is invalid data
    and the claim is rejected (277CA A7:477).

    ## Example
    `SV1*HC:99213*125*UN*1***M545~`

    ## Use instead
    `SV1*HC:99213*125*UN*1***1~`

    ## References
    005010X222A1 2400 SV107-1: "Diagnosis Code Pointer", N0 1/2, values 1-12.
    """

    code = "DP003"
    name = "pointer-invalid"
    summary = "SV107 pointer is not an integer from 1 to 12"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107-1..4"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            for index, raw in enumerate(line.pointers, start=1):
                if index == 1 and not raw:
                    continue  # DP001 speaks for a missing first pointer
                if raw and raw in _POINTERS:  # a valid pointer (1-12)
                    continue
                what = "is empty" if not raw else f"is {raw!r}"
                yield self.finding(
                    line.sv1,
                    f"Service line {line.number} diagnosis pointer SV107-{index} {what}; a pointer is an HI "
                    f"position from 1 to 12.",
                    element=f"SV107-{index}",
                    value=raw or None,
                )


class PointerTooMany(Rule):
    """More than four diagnosis pointers on a service line.

    ## What it does
    Flags SV107 with more than four components.

    ## Why is this bad
    SV107 carries at most four pointers (SV107-1..SV107-4); a fifth is a syntax error that
    rejects the claim (277CA A7:477).

    ## Example
    `SV1*HC:97140*60*UN*1***1:2:3:4:5~`

    ## Use instead
    `SV1*HC:97140*60*UN*1***1:2:3:4~`, the four most relevant diagnoses, primary first.

    ## References
    005010X222A1 2400 SV107: components 1-4.
    """

    code = "DP004"
    name = "pointer-too-many"
    summary = "SV107 has more than 4 diagnosis pointers"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            pointers = line.pointers
            if len(pointers) > 4:
                yield self.finding(
                    line.sv1,
                    f"Service line {line.number} has {len(pointers)} diagnosis pointers; SV107 allows 4. Keep the "
                    f"four that support the procedure, primary first.",
                    element="SV107-5",
                    value=pointers[4],
                )


class PointerRepeated(Rule):
    """The same diagnosis pointer twice on one service line.

    ## What it does
    Flags an SV107 pointer that repeats an earlier pointer of the same line (``1:1``).

    ## Why is this bad
    Each pointer must name a different diagnosis; payers treat a repeat as invalid data
    (277CA A7:477).

    ## Example
    `SV1*HC:97110*80*UN*2***1:1~`

    ## Use instead
    `SV1*HC:97110*80*UN*2***1~` or `SV1*HC:97110*80*UN*2***1:2~`

    ## References
    005010X222A1 2400 SV107-2..4 notes: "use only when pointing to a different diagnosis".
    """

    code = "DP005"
    name = "pointer-repeated"
    summary = "SV107 repeats the same diagnosis pointer"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107-2..4"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            if len(line.pointers) < 2:
                continue  # nothing to repeat
            seen: set[int] = set()
            for index, raw in enumerate(line.pointers, start=1):
                pointer = _POINTERS.get(raw)  # the HI position a pointer names (1-12), or None
                if pointer is None:
                    continue
                if pointer in seen:
                    yield self.finding(
                        line.sv1,
                        f"Service line {line.number} points at diagnosis {pointer} twice (SV107-{index}); each "
                        f"pointer must name a different diagnosis.",
                        element=f"SV107-{index}",
                        value=raw,
                    )
                seen.add(pointer)


class DiagnosisMissing(Rule):
    """Claim with service lines but no diagnosis (no HI segment).

    ## What it does
    Flags a 2300 claim that has service lines but no diagnosis HI segment, or one whose HI
    carries no code.

    ## Why is this bad
    Every professional claim needs at least the principal diagnosis (HI01, qualifier ABK); the
    lines' pointers have nothing to point at. The claim is rejected (277CA A6:254).

    ## Example
    `CLM*PT-1*125***11:B:1*Y*A*Y*Y~` `REF*...` `LX*1~` `SV1*...`

    ## Use instead
    `CLM*PT-1*125***11:B:1*Y*A*Y*Y~` `HI*ABK:M5450~` `LX*1~` `SV1*...***1~`

    ## References
    005010X222A1 2300 HI Health Care Diagnosis Code (required).
    """

    code = "DP006"
    name = "diagnosis-missing"
    summary = "claim has service lines but no HI diagnosis"
    ack = "A6:254"
    source = "005010X222A1 2300 HI (required)"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        if not claim.lines:
            return
        if not claim.hi_segments:
            yield self.finding(
                claim.clm,
                f"Claim {claim.claim_id} has {len(claim.lines)} service line{'s' if len(claim.lines) != 1 else ''} "
                f"but no diagnosis HI segment; add HI with the principal diagnosis (ABK).",
                element="HI01",
            )
        elif not any(dx.code for dx in claim.diagnoses):
            seg = claim.hi_segments[0]
            yield self.finding(
                seg,
                f"Claim {claim.claim_id}'s HI segment carries no diagnosis code; HI01-2 must hold the principal diagnosis.",
                element="HI01-2",
            )


class ServiceLineMissing(Rule):
    """Claim with no service line.

    ## What it does
    Flags a 2300 claim followed by no 2400 service line (no LX/SV1).

    ## Why is this bad
    An 837P claim must carry 1 to 50 service lines; without one there is nothing to pay and the
    payer rejects the claim (277CA A6:21).

    ## Example
    `CLM*PT-1*125***11:B:1*Y*A*Y*Y~` `HI*ABK:M5450~` (then the next claim or SE)

    ## Use instead
    `CLM*...~` `HI*ABK:M5450~` `LX*1~` `SV1*HC:99213*125*UN*1***1~` `DTP*472*D8*20250310~`

    ## References
    005010X222A1 loop 2400 (required, repeat 50).
    """

    code = "DP007"
    name = "service-line-missing"
    summary = "claim has no service line"
    ack = "A6:21"
    source = "005010X222A1 loop 2400 (required)"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            if line.sv1 is not None:
                break
        else:  # no line with an SV1
            yield self.finding(
                claim.clm,
                f"Claim {claim.claim_id} has no service line (2400 LX/SV1); an 837P claim needs at least one.",
                element="CLM01",
                value=None,
            )


_POINTERS = {**{str(i): i for i in range(1, 13)}, **{f"{i:02d}": i for i in range(1, 10)}}


def _positions(filled: set[int]) -> str:
    ordered = sorted(filled)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))


RULES = [PointerMissing, PointerUnfilled, PointerInvalid, PointerTooMany, PointerRepeated, DiagnosisMissing, ServiceLineMissing]
