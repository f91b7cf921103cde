"""Structural rules SX (SNIP levels 1-2): the 005010X222A1 guide's segments, loops and elements.

These findings come from the structural pass (:mod:`scrubber.check.structure`, pyx12's 837P map), not
from a claim check: the classes here document each kind and carry its code, severity and the
277CA acknowledgment a payer would send. ``scrubber scrub --no-structure`` turns the pass off;
``[rules] ignore = ["SX011"]`` or a severity override in ``scrubber.toml`` work as for any rule.

277CA codes (STC01-1:STC01-2): structural problems are normally answered by a 999 (IK3/IK4); when
a claim is rejected for one, the scrubber gives it the claim status a 277CA would carry:
A6:21 (rejected for missing information: "missing or invalid information") for something
required that is missing (SX001, SX002, SX006), A7:21 (rejected for invalid information) for
something present but wrong (SX003-SX005, SX007-SX012), and A3:21 (returned as unprocessable)
for envelope errors (SX020) that reject the whole transaction set. Each finding's message keeps
the 999 code (IK304 for segments, IK403 for elements) pyx12 gave.
"""

from __future__ import annotations

from scrubber.rules.base import Rule

_SOURCE = "ASC X12N 005010X222A1 implementation guide (structure, usage, repeats); X12 999 (005010X231A1) codes"


class _StructureRule(Rule):
    scope = "structure"
    source = _SOURCE
    raised_in = "scrubber.check.structure"  # the structural pass, run by the pipeline


class RequiredSegmentMissing(_StructureRule):
    """A segment the guide requires in a loop is missing.

    ## What it does
    Reports a required segment (usage R) of a loop that the loop does not carry, e.g. the billing
    provider's address (2010AA N3) or the claim's diagnoses (2300 HI). The finding names the loop
    and the missing segment; `position` is where pyx12 noticed it (the next segment).

    ## Why is this bad
    A payer's front door rejects the transaction set (999 IK304 code 3) before any claim is read.

    ## Example
    `NM1*85*2*SAMPLE CLINIC*****XX*1234567893~ N4*SPRINGFIELD*IL*62701~` (no N3 between them)

    ## Use instead
    `NM1*85*...~ N3*100 SAMPLE ST~ N4*SPRINGFIELD*IL*62701~`

    ## References
    005010X222A1 loop 2010AA; 999 IK304 code 3 (required segment missing).
    """

    code = "SX001"
    name = "required-segment-missing"
    summary = "a required segment is missing from its loop"
    ack = "A6:21"
    raised_in = "scrubber.check.structure.index, scrubber.check.structure.structural_error"


class RequiredLoopMissing(_StructureRule):
    """A loop the guide requires is missing (e.g. a claim without a service line loop 2400).

    ## What it does
    Reports a required loop that its parent loop does not carry: 2010AA in a 2000A, 2010BA in a
    2000B, 2400 in a 2300. `value` carries the missing loop's id, `loop` its parent.

    ## Why is this bad
    999 IK304 code 3: the payer rejects the transaction set.

    ## Example
    `CLM*SAMPLE-1*100***11:B:1*Y*A*Y*Y~ HI*ABK:M5450~ HL*3*1*22*0~` (no LX/SV1 after the claim)

    ## Use instead
    At least one `LX*1~ SV1*HC:99213*100*UN*1***1~ DTP*472*D8*20250301~` per claim.

    ## References
    005010X222A1 loop 2400 (required, 1-50 per claim).
    """

    code = "SX002"
    name = "required-loop-missing"
    summary = "a required loop is missing"
    ack = "A6:21"
    raised_in = "scrubber.check.structure.index, scrubber.check.structure.structural_error"


class UnexpectedSegment(_StructureRule):
    """A segment the guide does not expect where it stands: unknown id, wrong place or qualifier.

    ## What it does
    Reports a segment pyx12's map cannot place at that point of the loop structure: a misspelt
    segment id (`Nd4`), a segment out of order, an `NM1` whose entity code (`NM1*117`) opens no
    loop of the guide.

    ## Why is this bad
    999 IK304 code 1 (unrecognised segment id) or 2 (unexpected segment): rejected transaction.

    ## Example
    `N4*SPRINGFIELD*IL*62701~ N3*100 SAMPLE ST~` (N4 before N3)

    ## Use instead
    The guide's order: `N3` then `N4`.

    ## References
    005010X222A1 segment order and loop entry (qualifiers).
    """

    code = "SX003"
    name = "unexpected-segment"
    summary = "segment not expected here (unknown id, out of order, unknown qualifier)"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.index, scrubber.check.structure.structural_error"


class SegmentRepeats(_StructureRule):
    """A segment occurs more often in its loop than the guide allows.

    ## What it does
    Reports the first repeat beyond the segment's maximum use (e.g. two `REF*EI` in 2010AA).

    ## Why is this bad
    999 IK304 code 5 (segment exceeds maximum use).

    ## Example
    `REF*EI*123456789~ REF*EI*987654321~` in the billing provider loop

    ## Use instead
    One tax identification `REF` in 2010AA.

    ## References
    005010X222A1 2010AA REF (max use 1).
    """

    code = "SX004"
    name = "segment-repeats"
    summary = "segment repeats more often than allowed"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class LoopRepeats(_StructureRule):
    """A loop occurs more often than the guide allows (e.g. two billing provider names 2010AA).

    ## What it does
    Reports the first repeat of a loop beyond its maximum; `value` carries the loop id.

    ## Why is this bad
    999 IK304 code 4 (loop occurs over maximum times).

    ## Example
    Two `NM1*85` loops under one `HL*1**20*1`.

    ## Use instead
    One billing provider name per 2000A; a second provider gets its own 2000A.

    ## References
    005010X222A1 loop 2010AA (repeat 1).
    """

    code = "SX005"
    name = "loop-repeats"
    summary = "loop repeats more often than allowed"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class RequiredElementMissing(_StructureRule):
    """A required element or composite is empty (e.g. NM102, CLM05, SV107).

    ## What it does
    Reports a required data element, component or composite (usage R, or required by a syntax
    rule of the segment) that is empty.

    ## Why is this bad
    999 IK403 code 1 (required data element missing) or 2 (conditional required missing).

    ## Example
    `NM1*40**SAMPLE PAYER*****46*12345~` (NM102 entity type missing)

    ## Use instead
    `NM1*40*2*SAMPLE PAYER*****46*12345~`

    ## References
    005010X222A1 element usage; X12 syntax notes (P/R/C/L rules).
    """

    code = "SX006"
    name = "required-element-missing"
    summary = "a required element or composite is missing"
    ack = "A6:21"
    raised_in = "scrubber.check.structure.structural_error"


class ElementLength(_StructureRule):
    """An element is shorter or longer than its minimum/maximum length.

    ## What it does
    Checks each element's length against the guide (e.g. HI01-1 qualifier at most 3 characters).

    ## Why is this bad
    999 IK403 code 4 (too short) or 5 (too long).

    ## Example
    `HI*BK*8901~` reads `8901` as a 4-character qualifier in HI02-1 (HI composites split by `*`).

    ## Use instead
    `HI*BK:8901~`

    ## References
    005010X222A1 element attributes (min/max).
    """

    code = "SX007"
    name = "element-length"
    summary = "element too short or too long"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class InvalidCode(_StructureRule):
    """An element holds a code that is not among the guide's values (e.g. CLM05-2, SV107-1).

    ## What it does
    Checks ID elements against the code lists of pyx12's 005010X222A1 map (and the state codes
    it knows). `value` carries the code sent. Code lists the map does not hold (CLM05-3 claim
    frequency, place of service) are not checked here (ID006 checks the place of service).

    ## Why is this bad
    999 IK403 code 7 (invalid code value).

    ## Example
    `CLM*SAMPLE-1*100***11:A:1*Y*A*Y*Y~` (CLM05-2 facility code qualifier A)

    ## Use instead
    `11:B:1`: CLM05-2 is always B (place of service code) in an 837P.

    ## References
    005010X222A1 element code lists.
    """

    code = "SX008"
    name = "invalid-code"
    summary = "code value not valid for the element"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class InvalidDateTime(_StructureRule):
    """A date or time element is not a valid calendar date or time (e.g. DTP03 20251340).

    ## What it does
    Checks DT/TM elements and DTP03 against their format (D8 CCYYMMDD, RD8 CCYYMMDD-CCYYMMDD).
    The value is not repeated in the finding (it could be a birth date).

    ## Why is this bad
    999 IK403 code 8 (invalid date) or 9 (invalid time).

    ## Example
    `DTP*472*D8*20251340~`

    ## Use instead
    `DTP*472*D8*20251130~`

    ## References
    005010X222A1 DTP segments; X12 DT/TM data types.
    """

    code = "SX009"
    name = "invalid-date-time"
    summary = "invalid date or time"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class InvalidCharacter(_StructureRule):
    """An element holds a character its data type does not allow (a letter in a number).

    ## What it does
    Checks N0/R/ID/AN elements for characters outside their type.

    ## Why is this bad
    999 IK403 code 6 (invalid character in data element).

    ## Example
    `SV1*HC:99213*1OO*UN*1***1~` (letter O in the charge amount)

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~`

    ## References
    X12 data types (N, R, ID, AN, DT, TM).
    """

    code = "SX010"
    name = "invalid-character"
    summary = "character not allowed by the element's data type"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class ElementSyntax(_StructureRule):
    """Too many elements or components, trailing separators, or a segment syntax rule broken.

    ## What it does
    Reports a segment with more elements than defined, a composite with more components than
    defined (SV107 with 5 pointers), empty trailing elements (`...*Y**~`), and broken paired /
    exclusion syntax rules of the segment.

    ## Why is this bad
    999 IK403 code 3 (too many data elements), 13 (too many components), 10 (exclusion
    violated) or IK304 8 (segment has data element errors).

    ## Example
    `SV1*HC:99213*100*UN*1***1:2:3:4:5~`

    ## Use instead
    At most four diagnosis pointers: `1:2:3:4`.

    ## References
    X12 syntax rules; 005010X222A1 segment definitions.
    """

    code = "SX011"
    name = "element-syntax"
    summary = "too many elements/components, trailing separators, or syntax rule broken"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class HierarchyNumbering(_StructureRule):
    """HL01 not numbered 1, 2, 3 ..., HL02 naming no open parent, or LX01 out of sequence.

    ## What it does
    Checks that HL01 counts the hierarchical levels of the transaction from 1, that HL02 points
    to an HL above it, and that LX01 counts each claim's service lines from 1.

    ## Why is this bad
    The payer cannot rebuild the billing provider / subscriber / patient tree or number the
    lines of its 835; most translators reject the transaction set.

    ## Example
    `HL*1**20*1~ ... HL*2*1*22*1~ ... HL*2*3*22*1~` (HL 2 twice, parent 3 does not exist)

    ## Use instead
    `HL*1**20*1~ ... HL*2*1*22*0~ ... HL*3*1*22*0~`

    ## References
    005010X222A1 HL segment notes (2000A/2000B/2000C); LX01 notes (2400).
    """

    code = "SX012"
    name = "hierarchy-numbering"
    summary = "HL or LX numbering out of sequence, or HL parent unknown"
    ack = "A7:21"
    raised_in = "scrubber.check.structure.structural_error"


class EnvelopeError(_StructureRule):
    """An envelope error pyx12 reports: ISA/GS/ST elements invalid, control numbers not unique.

    ## What it does
    Reports errors in the interchange (ISA), functional group (GS) and transaction set (ST/SE)
    envelopes that the scrubber's outputs do not correct (the counts and trailer control numbers
    are EN101/EN102, recomputed in the outputs). An envelope error rejects every claim of the
    transaction set (or of the group or interchange).

    ## Why is this bad
    A payer answers with a TA1 or a 999 rejecting the whole group or transaction set.

    ## Example
    `GS*HC*SENDER*RECEIVER*20250301*2561*1*X*005010X222A1~` (GS05 time 25:61)

    ## Use instead
    A valid time: `1230`.

    ## References
    X12 envelope (ISA/GS/ST) definitions; 999 IK5/AK9 codes; TA1 codes.
    """

    code = "SX020"
    name = "envelope-error"
    summary = "envelope (ISA/GS/ST) error: rejects the transaction set"
    ack = "A3:21"
    raised_in = "scrubber.check.structure.structural_error, scrubber.check.structure.structure_pass"


class VersionLabel(_StructureRule):
    """The 837P is labelled 005010X222 or 005010X222A2 instead of the adopted 005010X222A1.

    ## What it does
    Warns when ST03 (or GS08) is `005010X222` (the base guide) or `005010X222A2` (an erratum
    not adopted by HIPAA). The transaction is read and validated as 005010X222A1.

    ## Why is this bad
    HIPAA adopted 005010X222A1; payers' translators reject other labels (999 IK5 / AK9 code 2,
    version not supported) or route the file wrong.

    ## Example
    `ST*837*0001*005010X222A2~`

    ## Use instead
    `GS*...*005010X222A1~ ST*837*0001*005010X222A1~`

    ## References
    45 CFR 162.1102; 005010X222A1 ST03 and GS08.
    """

    code = "SX090"
    name = "version-label"
    summary = "837P labelled 005010X222 or 005010X222A2 (005010X222A1 expected)"
    severity = "warning"
    raised_in = "scrubber.check.structure.structure_pass"


class StructureNotChecked(_StructureRule):
    """The structural validation could not finish (pyx12 stopped): the rest was not checked.

    ## What it does
    Reports where pyx12 gave up (an input it cannot process); everything after that point of
    the transaction set has had no structural check (content rules still ran).

    ## Why is this bad
    A structural error after that point would go unnoticed until the payer's 999.

    ## Use instead
    Report the input (its report.json carries no patient data).
    """

    code = "SX099"
    name = "structure-not-checked"
    summary = "structural validation stopped early (not checked past a point)"
    severity = "not_checked"
    raised_in = "scrubber.check.structure.index, scrubber.check.structure.structure_pass"
