"""NC002: NCCI procedure-to-procedure edit with modifier indicator 1 whose column-2 line has no bypass modifier."""

from __future__ import annotations

from functools import lru_cache

from scrubber.codesets.ncci import Ncci
from scrubber.findings import Finding
from scrubber.rules.ncci._common import PtpRule, note, when


def _either(modifiers) -> str:
    """``{"XS", "59", "XE"}`` -> ``"59, XE or XS"``."""
    items = sorted(set(modifiers))
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


@lru_cache(maxsize=4096)
def _bypass(n: Ncci, proc: str) -> frozenset[str]:
    """The modifiers that bypass an indicator-1 edit of column-2 code ``proc``."""
    return n.bypass.for_code(proc)


@lru_cache(maxsize=4096)
def _ways(n: Ncci, proc: str) -> str:
    """``59, XE, XP, XS or XU, when the record shows a distinct service`` (25 first on an E/M code)."""
    special = [f"{_either(r.modifiers)} ({r.label})" for r in n.bypass.rules if r.low and r.covers(proc)]
    plain = _either(m for r in n.bypass.rules if not r.low for m in r.modifiers)
    return (f"{'; or '.join(special)}; or {plain} (a distinct service)" if special
            else f"{plain}, when the record shows a distinct service")


class NcciPairModifierMissing(PtpRule):
    """NCCI procedure-to-procedure edit with modifier indicator 1 whose column-2 line has no bypass modifier.

    ## What it does
    On any claim, flags a service line whose procedure is the column-2 code of an NCCI PTP edit with
    modifier indicator 1 when the edit's column-1 code is billed on the same date of service and the
    line carries no modifier that bypasses the edit: 59, XE, XS, XP or XU on any line, and also 25
    on an E/M line (99202-99499), as listed in `maps/ncci/modifiers.toml`. The edits are the CMS
    Medicare NCCI PTP table for practitioner services (`maps/ncci/`), as for NC001. Examples:
    manual therapy 97140 with manipulation 98940-98942 or with traction 97012 (column 1); an office
    visit 99202-99215 with manipulation 98940-98942 or with a therapy evaluation 97161-97164.

    ## Why is this bad
    Without the modifier the column-2 line is denied as bundled into the column-1 service. The
    modifier is allowed only when the record shows a distinct service (another region, encounter
    or session) or, for an E/M visit, a significant, separately identifiable evaluation beyond the
    usual one of the procedure. Only the provider can say so: hence a warning.

    ## Example
    `SV1*HC:98940*45*UN*1***1~` and `SV1*HC:99213*100*UN*1***1~` on the same date

    ## Use instead
    `SV1*HC:99213:25*100*UN*1***1~` when the visit was a separately identifiable E/M service, or
    `SV1*HC:97140:XS*40*UN*1***1~` (with 98940) when manual therapy treated another region; else
    drop the column-2 line.

    ## References
    CMS NCCI Policy Manual for Medicare Services ch. 1 sec. E (modifiers 59, XE, XS, XP, XU, 25) and
    ch. 11; CMS Medicare NCCI PTP edits, practitioner services: maps/ncci/ptp_practitioner.tsv,
    maps/ncci/modifiers.toml, see maps/ncci/SOURCE.md.
    """

    code = "NC002"
    name = "ncci-ptp-modifier-missing"
    summary = "NCCI PTP pair with modifier indicator 1: column-2 line lacks 59/XE/XS/XP/XU (25 on E/M)"
    severity = "warning"
    source = ("CMS Medicare NCCI PTP edits, practitioner services (quarterly table, maps/ncci/ptp_practitioner.tsv); "
              "NCCI Policy Manual ch. 1 sec. E and ch. 11 (maps/ncci/modifiers.toml)")
    indicator = 1

    def pair_finding(self, line, column1, d, rationale, n, facts) -> Finding | None:
        proc = line.procedure
        if not _bypass(n, proc).isdisjoint(line.modifiers):
            return None
        ways = _ways(n, proc)
        return self.finding(
            line.sv1,
            f"Service line {line.number} ({proc}) is billed on {when(d)} with {column1}: an NCCI PTP edit with "
            f"modifier indicator 1 ({rationale}); the line is payable only with modifier {ways} "
            f"{note(n, 'PTP', facts.as_of)}.",
            element="SV101-3", value=proc,
        )
