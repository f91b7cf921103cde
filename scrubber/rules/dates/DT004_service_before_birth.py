"""DT004: date of service before the patient's birth date."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
import scrubber.rules.dates._common  # noqa: F401 - declares facts.service_span
from scrubber.x12.model import Claim, parse_date


class ServiceBeforeBirth(Rule):
    """Date of service before the patient's birth date.

    ## What it does
    Compares each DTP*472 with the patient's birth date (DMG02 in 2010CA when there is a patient
    loop, else in 2010BA). The birth date is never shown in the finding.

    ## Why is this bad
    The service date or the birth date is wrong; payers reject the claim (277CA A7:187).

    ## Example
    `DMG*D8*20240601*F~` ... `DTP*472*D8*20240310~`

    ## Use instead
    The real date of service (and birth date).

    ## References
    005010X222A1 2010BA/2010CA DMG02; 2400 DTP*472.
    """

    code = "DT004"
    concerns = "born_after_service"
    name = "service-before-birth"
    summary = "date of service before the patient's birth date"
    ack = "A7:187"
    source = "005010X222A1 2010BA/2010CA DMG02, 2400 DTP*472"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        first = facts.service_span.first
        if first is None:
            return ()
        node = claim.patient if claim.patient is not None else claim.subscriber
        if node is None:
            return ()
        for dmg in node.segments:  # the node's first DMG
            if dmg.id == "DMG":
                break
        else:
            return ()
        if dmg.el(1) != "D8":
            return ()
        born = parse_date(dmg.el(2))
        if born is None or first >= born:
            return ()
        loop = "2010CA" if claim.patient is not None else "2010BA"
        dates = facts.dates
        return [
            self.finding(
                seg,
                f"Date of service {start.isoformat()} ({dates.label(seg)}) is before the patient's birth "
                f"date (DMG02 in {loop}); one of the two dates is wrong.",
                element="DTP03",
                value=seg.el(3),
            )
            for seg, start, _ in dates.service
            if start is not None and start < born
        ]
