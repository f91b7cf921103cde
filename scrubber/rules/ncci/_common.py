"""What the NCCI rules share: :class:`NcciRule` (the CMS tables, loaded on first use, and their
sources for --explain), :class:`PtpRule` (the procedure-to-procedure pairs of one date),
the units of a line and the date of a finding."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, ClassVar

from scrubber.codesets.backpain import MapError
from scrubber.codesets.ncci import (
    MODIFIERS_NAME,
    MUE_NAME,
    MUE_TITLE,
    PTP_NAME,
    PTP_TITLE,
    Ncci,
    NcciError,
    load_ncci,
    quarter_age,
)
from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import MULTI_PROCEDURE_DATES, PROCEDURE_REPEATED, UNITS_NOT_ONE, claim_fact

if TYPE_CHECKING:
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim, ServiceLine


def units(line: ServiceLine) -> Decimal | None:
    """The line's SV104 as a Decimal, None when it is empty or not a number."""
    return units_of(line.sv1.el(4))


@lru_cache(maxsize=4096)  # SV104 texts repeat: parsed once each
def units_of(text: str) -> Decimal | None:
    """An SV104 text as a number of units (None when it is not a number)."""
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


@lru_cache(maxsize=64)  # a few per run
def note(n: Ncci, kind: str, as_of: date) -> str:
    """``n.note(kind, as_of)``, formatted once per table, kind and as-of date."""
    return n.note(kind, as_of)


def when(d: date | None) -> str:
    """A date of service as a finding names it."""
    return d.isoformat() if d is not None else "the claim's date"


class NcciRule(Rule):
    """Shared plumbing of the NCCI rules (not itself a rule): the tables, loaded on first use."""

    uses_ncci: ClassVar[bool] = True
    table_kind: ClassVar[str] = "PTP"
    map_files: ClassVar[tuple[str, ...]] = (f"ncci/{PTP_NAME}", f"ncci/{MODIFIERS_NAME}")

    @staticmethod
    def ncci(facts: ClaimFacts) -> Ncci | NcciError:
        """The NCCI tables (loaded once per run), or the error that keeps them from loading."""
        maps = facts.maps
        table = maps.get("ncci")
        if table is None:
            try:
                table = load_ncci()
            except NcciError as exc:
                table = exc
            maps["ncci"] = table
        return table

    def unreadable(self, claim: Claim, exc: NcciError) -> Finding:
        return self.finding(claim.clm, f"Claim {claim.claim_id}: {self.code} not checked: {exc}",
                            element="CLM01", severity="not_checked")

    @classmethod
    def explain_sources(cls) -> str:
        """The CMS table and quarter this rule reads (for --explain)."""
        try:
            n = load_ncci()
        except NcciError as exc:
            raise MapError(str(exc)) from None
        today = date.today()

        def age(quarter: date) -> str:
            k = quarter_age(quarter, today)
            return f" ({k} quarter{'s' if k != 1 else ''} old on {today.isoformat()})" if k else ""

        if cls.table_kind == "PTP":
            out = [
                f"Data: maps/ncci/{PTP_NAME} ({n.ptp_path})",
                f"  {PTP_TITLE}, quarter {n.ptp_quarter.isoformat()}{age(n.ptp_quarter)}: {n.ptp_rows:,} edits "
                f"with modifier indicator 0 or 1, {n.ptp_active:,} active pairs",
                f"  source: {n.ptp_source}",
                f"  inputs: {'; '.join(i.split(' sha256=')[0] for i in n.ptp_inputs)}",
            ]
        else:
            out = [
                f"Data: maps/ncci/{MUE_NAME} ({n.mue_path})",
                f"  {MUE_TITLE}, quarter {n.mue_quarter.isoformat()}{age(n.mue_quarter)}: {n.mue_rows:,} codes",
                f"  source: {n.mue_source}",
                f"  inputs: {'; '.join(i.split(' sha256=')[0] for i in n.mue_inputs)}",
            ]
        out.append("  NCCI quarters replace each other and have no end date: a later date of service is checked "
                   "against the newest quarter loaded (maps/ncci/SOURCE.md says how to load a newer one).")
        if cls.table_kind == "PTP":
            b = n.bypass
            out.append(f"Data: maps/ncci/{MODIFIERS_NAME} ({b.path}): {b.title}; from {b.effective_from.isoformat()}")
            out.append(f"  source: {b.source}")
            for rule in b.rules:
                where = f"a column-2 line {rule.low}-{rule.high}" if rule.low else "any column-2 line"
                out.append(f"  - {', '.join(sorted(rule.modifiers))} on {where}: {rule.label} ({rule.source})")
        return "\n".join(out)


class PtpRule(NcciRule):
    """Shared plumbing of the two PTP rules (not itself a rule): one finding at most per column-2 line
    with an edit of the rule's ``indicator`` in force on its date (see ``NcciLines.ptp_hits``)."""

    indicator: ClassVar[int] = 0
    concerns = "ptp_pairs"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        found = facts.ncci_lines
        if not found.multi:
            return ()
        n = self.ncci(facts)
        if isinstance(n, NcciError):
            return [self.unreadable(claim, n)]
        wanted = self.indicator + 2  # index in the hit tuple
        # One finding per column-2 line and indicator (the bypass modifiers depend on the line alone).
        out = []
        for hit in found.ptp_hits(n):
            edit = hit[wanted]
            if edit is not None:
                finding = self.pair_finding(hit[0], edit[0], hit[1], edit[1], n, facts)
                if finding is not None:
                    out.append(finding)
        return out

    def pair_finding(self, line: ServiceLine, column1: str, d: date | None, rationale: str, n: Ncci,
                     facts: ClaimFacts) -> Finding | None:  # pragma: no cover - interface
        raise NotImplementedError


# The gates of the NCCI rules (see ``scrubber.rules.facts.GATES``): they read the NCCI table.
@claim_fact
def ptp_pairs(facts: ClaimFacts) -> bool:
    """A gate: a date of service carries two procedures with a PTP edit in force, or the NCCI table
    cannot be read (NC001, NC002)."""
    if not facts.gates & MULTI_PROCEDURE_DATES:
        return False
    n = facts.maps.get("ncci") or NcciRule.ncci(facts)
    return isinstance(n, NcciError) or facts.ptp_possible(n)


@claim_fact
def mue_suspect(facts: ClaimFacts) -> bool:
    """A gate: a line has a procedure, and a line is billed for other than 1 unit, a procedure has
    an MUE of 0, a procedure is on more lines of one date than its per-date MUE allows, or the NCCI
    table cannot be read (NC003)."""
    coded = facts.coded_lines
    if not coded:
        return False
    n = facts.maps.get("ncci") or NcciRule.ncci(facts)
    gates = facts.gates
    if isinstance(n, NcciError) or gates & UNITS_NOT_ONE:
        return True
    zero = _zero_mue(n)
    if zero and not zero.isdisjoint(facts.procedures):
        return True
    if not gates & PROCEDURE_REPEATED:
        return False
    # Every line is billed for 1 unit: a procedure on k lines of one date is past its MUE only when
    # k is past a per-date MUE (per line, 1 unit is past an MUE of 0 only: above).
    counts: dict[tuple, int] = {}
    for _, proc, d in coded:
        key = (proc, d)
        counts[key] = counts.get(key, 0) + 1
    mue = n.mue_codes()
    for (proc, _), k in counts.items():
        if k > 1:
            raw = mue.get(proc)
            if raw is not None and raw[1] != 1 and k > raw[0]:
                return True
    return False


_ZERO_MUE: tuple = (None, frozenset())  # (the NCCI table, its codes with an MUE of 0)


def _zero_mue(n: Ncci) -> frozenset[str]:
    global _ZERO_MUE
    known = _ZERO_MUE
    if known[0] is not n:
        known = _ZERO_MUE = (n, frozenset(code for code, (value, *_rest) in n.mue_codes().items() if value == 0))
    return known[1]
