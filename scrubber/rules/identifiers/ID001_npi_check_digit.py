"""ID001: provider NPI that is not 10 digits or fails its check digit (Luhn with the 80840 prefix)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.identifiers._common import luhn_npi_ok
from scrubber.x12.model import Claim
from scrubber.x12.reader import Segment

# NM1 loops that carry a provider NPI (NM108 = XX): billing, referring, rendering, facility, supervising ...
_PROVIDER_LOOPS = {
    "2010AA": "billing provider", "2310A": "referring provider", "2310B": "rendering provider",
    "2310C": "service facility", "2310D": "supervising provider", "2310E": "ambulance pick-up location",
    "2310F": "ambulance drop-off location", "2330D": "other payer rendering provider",
    "2330E": "other payer service facility", "2330F": "other payer supervising provider",
    "2330G": "other payer billing provider", "2420A": "line rendering provider",
    "2420B": "line purchased service provider", "2420C": "line service facility",
    "2420D": "line supervising provider", "2420E": "line ordering provider", "2420F": "line referring provider",
}


class NpiCheckDigit(Rule):
    """Provider NPI that is not 10 digits or fails its check digit (Luhn with the 80840 prefix).

    ## What it does
    Checks NM109 of every provider name segment with NM108 = XX: billing provider (2010AA),
    rendering (2310B, 2420A), referring, supervising, ordering, service facility and the other
    payer provider loops. An NPI is 10 digits whose last is the Luhn check digit computed over
    `80840` followed by the first nine.

    ## Why is this bad
    A mistyped NPI does not identify the provider; the claim is rejected (277CA A7:562).

    ## Example
    `NM1*85*2*SAMPLE CLINIC ONE*****XX*1234567890~`

    ## Use instead
    `NM1*85*2*SAMPLE CLINIC ONE*****XX*1234567893~`

    ## References
    45 CFR 162.406; CMS "NPI check digit" (ISO/IEC 7812 Luhn, prefix 80840).
    """

    code = "ID001"
    concerns = "npi_suspect"
    name = "npi-check-digit"
    summary = "provider NPI is not 10 digits or fails the Luhn check (80840 prefix)"
    ack = "A7:562"
    source = "45 CFR 162.406; CMS NPI check digit"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        out = []
        billing = claim.billing
        for segments in (billing.segments if billing is not None else (), claim.segments):
            for seg in segments:
                if seg.id != "NM1" or seg.el(8) != "XX":
                    continue
                npi = seg.el(9)
                if luhn_npi_ok(npi):
                    continue
                out.append(self._bad_npi(seg, npi))
        return out

    def _bad_npi(self, seg: Segment, npi: str) -> Finding:
        role = _PROVIDER_LOOPS.get(seg.loop, "provider")
        why = "fails its check digit" if len(npi) == 10 and npi.isdigit() else "is not 10 digits"
        return self.finding(
            seg,
            f"The {role} NPI (NM109 in {seg.loop or 'NM1'}) {why}; check the number against NPPES.",
            element="NM109",
            value=npi or None,
        )
