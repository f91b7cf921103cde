"""NC001: NCCI procedure-to-procedure edit with modifier indicator 0 on one date (never payable together)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.ncci._common import PtpRule, note, when


class NcciPairNoModifier(PtpRule):
    """NCCI procedure-to-procedure edit with modifier indicator 0 on one date (never payable together).

    ## What it does
    On any claim, flags a service line whose procedure is the column-2 code of an NCCI PTP edit with
    modifier indicator 0 when the edit's column-1 code is billed on the same date of service. The
    edits are the CMS Medicare NCCI PTP table for practitioner services (`maps/ncci/`, one quarter;
    a later date of service is checked against the newest quarter loaded, and a deleted edit only
    counts up to its deletion date). Examples: chiropractic manipulation 98940-98942 with a
    physical therapy evaluation 97161-97164, two manipulation levels (98941 with 98940), two
    evaluation levels. The finding names the quarter checked against and its age.

    ## Why is this bad
    The column-2 line is denied whatever modifier it carries: CMS considers the two services
    mutually exclusive, or one part of the other. No documentation makes it payable, so the claim
    is held back (error) until the line is removed or corrected.

    ## Example
    `SV1*HC:98940*45*UN*1***1~` and `SV1*HC:97161*120*UN*1***1~` on the same date

    ## Use instead
    Bill the service that was performed (the manipulation, or the evaluation on another date):
    `SV1*HC:98940*45*UN*1***1~` alone.

    ## References
    CMS NCCI Policy Manual for Medicare Services ch. 1 sec. E and ch. 11; CMS Medicare NCCI PTP edits,
    practitioner services (quarterly): maps/ncci/ptp_practitioner.tsv, see maps/ncci/SOURCE.md.
    """

    code = "NC001"
    name = "ncci-ptp-indicator-0"
    summary = "NCCI PTP pair with modifier indicator 0 billed on one date"
    severity = "error"
    source = "CMS Medicare NCCI PTP edits, practitioner services (quarterly table, maps/ncci/ptp_practitioner.tsv)"
    indicator = 0

    def pair_finding(self, line, column1, d, rationale, n, facts) -> Finding | None:
        return self.finding(
            line.sv1,
            f"Service line {line.number} ({line.procedure}) is billed on {when(d)} with {column1}: an NCCI PTP edit "
            f"with modifier indicator 0 ({rationale}) denies it whatever its modifiers; remove or correct the line "
            f"{note(n, 'PTP', facts.as_of)}.",
            element="SV101-2", value=line.procedure,
        )
