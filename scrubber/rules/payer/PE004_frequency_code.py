"""PE004: CLM05-3 (claim frequency) other than 1, 7 or 8."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.payer._common import FREQUENCY_OK, FREQUENCY_OTHER, frequency_code
from scrubber.x12.model import Claim


class FrequencyCode(Rule):
    """Claim frequency code (CLM05-3) other than 1, 7 or 8.

    ## What it does
    Flags CLM05-3 when it is not 1 (original), 7 (replacement of an earlier claim) or 8 (void of
    an earlier claim), naming what the code sent means: interim-bill and late-charge codes (2-5),
    0 and 9 come from institutional billing, 6 is the institutional adjustment.

    ## Why is this bad
    Professional payers take only these three: another code is rejected or, worse, read as an
    adjustment of a claim that does not exist. A warning: a few payers document exceptions.

    ## Example
    `CLM*ACME-1001*150***11:B:6*Y*A*Y*Y~`

    ## Use instead
    `CLM*ACME-1001*150***11:B:1*Y*A*Y*Y~`, or 7 with `REF*F8` to replace a claim already sent.

    ## References
    005010X222A1 2300 CLM05-3 (the guide's note: professional claims use 1, 7 and 8); CMS
    Pub. 100-04 ch. 1 (claim change reasons).
    """

    code = "PE004"
    concerns = "frequency_or_f8"
    name = "frequency-code"
    summary = "CLM05-3 claim frequency is not 1 (original), 7 (replacement) or 8 (void)"
    severity = "warning"
    ack = "A7:21"
    source = "005010X222A1 2300 CLM05-3"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        code = frequency_code(claim)
        if code in FREQUENCY_OK:
            return ()
        meaning = FREQUENCY_OTHER.get(code, "not a claim frequency code" if code else "missing")
        shown = repr(code) if code else "empty"
        return [self.finding(
            claim.clm,
            f"CLM05-3 is {shown} ({meaning}); a professional claim is sent as 1 (original), 7 (replacement) "
            f"or 8 (void).",
            element="CLM05-3", value=code or None,
        )]
