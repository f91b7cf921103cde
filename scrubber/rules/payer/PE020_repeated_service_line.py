"""PE020: two service lines of one claim with the same procedure, modifiers, date and pointers."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class RepeatedServiceLine(Rule):
    """Two service lines of one claim with the same procedure, modifiers, date and pointers.

    ## What it does
    Flags a service line whose procedure (SV101-2), modifiers (SV101-3 to -6, in any order),
    date of service and diagnosis pointers (SV107) are those of an earlier line of the same
    claim. The finding names the earlier line.

    ## Why is this bad
    Units of one service on one date belong on one line (SV104): payers pay the first line and
    deny the second as a duplicate line (CARC 18), or count both against a unit limit. When the
    services really are distinct (another session, another site), a modifier says so (76, 77,
    59/X{EPSU}, RT/LT ...). A warning: only the sender can tell.

    ## Example
    `LX*1~` `SV1*HC:97110*50*UN*1***1~` `DTP*472*D8*20250311~` `LX*2~` `SV1*HC:97110*50*UN*1***1~`
    `DTP*472*D8*20250311~`

    ## Use instead
    `LX*1~` `SV1*HC:97110*100*UN*2***1~` `DTP*472*D8*20250311~` (one line, two units).

    ## References
    Payer line-level duplicate edits (CARC 18); 005010X222A1 2400 SV104 (units) and SV101-3..6.
    """

    code = "PE020"
    name = "repeated-service-line"
    summary = "two service lines with the same procedure, modifiers, date of service and pointers"
    severity = "warning"
    source = "payer line-level duplicate edit; 005010X222A1 2400 SV1"
    concerns = "procedure_repeated"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        coded = facts.coded_lines  # the lines with an SV1 and a procedure, with their dates
        if len(coded) < 2:
            return ()
        # Only a procedure on two lines can make a repeat.
        once: set[str] = set()
        twice: set[str] = set()
        for _, proc, _ in coded:
            if proc in once:
                twice.add(proc)
            else:
                once.add(proc)
        if not twice:
            return ()
        seen: dict[tuple, int] = {}
        out = []
        for line, proc, when in coded:
            if proc not in twice:
                continue
            key = (proc, tuple(sorted(line.modifiers)), when, tuple(line.pointers))
            first = seen.get(key)
            if first is None:
                seen[key] = line.number
                continue
            out.append(self.finding(
                line.sv1,
                f"Service line {line.number} ({line.procedure}) repeats service line {first}: the same procedure, "
                f"modifiers, date of service and diagnosis pointers; bill the units on one line, or add the "
                f"modifier that tells the services apart.",
                element="SV101-2", value=line.procedure,
            ))
        return out
