"""What several diagnosis rules share: the ICD-9-CM qualifiers, and the sentence of a code not
valid on its date of service (DX101-DX103)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scrubber.codesets.icd10cm import format_code

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.base import Rule
    from scrubber.rules.facts import ClaimFacts, IcdVerdict

#: ICD-9-CM qualifiers (principal, other): DX002 reports them, DX001 leaves them to it.
ICD9_QUALIFIERS = ("BK", "BF")


def on_date_findings(rule: Rule, facts: ClaimFacts, kind: str, why: Callable[[IcdVerdict], str]) -> list[Finding]:
    """``rule``'s findings for the claim's codes with a verdict of ``kind`` on a date of service
    (:attr:`ClaimFacts.icd_verdicts`), each saying ``why(verdict)``."""
    verdicts = facts.icd_verdicts
    found = []
    for verdict, dx, d, release in verdicts.found:
        if verdict.kind != kind:
            continue
        code = dx.code
        found.append(rule.finding(
            dx.segment,
            f"Diagnosis {format_code(code)} ({dx.ref}) {why(verdict)} for the date of service {d.isoformat()} "
            f"(ICD-10-CM {verdicts.table.release_label(release)}).",
            element=dx.ref,
            value=code,
        ))
    return found
