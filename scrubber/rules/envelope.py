"""File-level rules: raised by the reader, the claim model, the engine and the pipeline, not by a
claim check.

They are listed here so that ``scrubber rules`` documents every code a report can carry; each
class's ``raised_in`` names the modules that raise its code. The
EN00x rules make an input unusable (exit status 2, no clean file), except EN011 raised on one
claim, which rejects that claim only; EN1xx are warnings about trailers that the outputs
recompute.
"""

from __future__ import annotations

from scrubber.rules.base import Rule


class _FileRule(Rule):
    scope = "file"


class EmptyFile(_FileRule):
    """The input is empty.

    ## What it does
    Declares an input with no bytes (or only blanks) unusable.

    ## Why is this bad
    There is nothing to submit; an upstream system probably failed to write the file.

    ## Use instead
    Re-send the complete 837P file.
    """

    code = "EN001"
    name = "empty-file"
    summary = "input is empty"
    raised_in = "scrubber.x12.reader"


class NotX12(_FileRule):
    """The input is not X12: it does not begin with an ISA segment.

    ## What it does
    Declares unusable an input whose first segment (after an optional UTF-8 byte-order mark and
    blanks) is not ISA.

    ## Why is this bad
    A payer's front door rejects the whole file (TA1); no claim in it can be read.

    ## Example
    A CSV, a PDF or a ZIP renamed `.837`.

    ## Use instead
    The 837P interchange itself, beginning `ISA*00*...`.
    """

    code = "EN002"
    name = "not-x12"
    summary = "input is not X12 (no ISA at the start)"
    raised_in = "scrubber.x12.reader"


class IsaMalformed(_FileRule):
    """The ISA segment cannot be read: wrong length, missing elements, unusable delimiters.

    ## What it does
    Reads the delimiters from the ISA (element separator at position 4, component separator in
    ISA16, the terminator after it). A non-padded ISA is still read by counting its elements; an
    ISA with fewer than 16 elements or letters/digits as delimiters is unusable.

    ## Why is this bad
    Without the delimiters no segment can be read; a payer answers with a TA1 rejection.

    ## Use instead
    A fixed-width ISA of 106 characters with its terminator.
    """

    code = "EN003"
    name = "isa-malformed"
    summary = "ISA segment is malformed"
    raised_in = "scrubber.x12.reader, scrubber.x12.model"


class SegmentTooLong(_FileRule):
    """A segment longer than the configured limit (the terminator is probably wrong).

    ## What it does
    Stops reading when no segment terminator is found within the limit (1 MiB by default).

    ## Why is this bad
    A file with no terminator, or the wrong one, cannot be split into segments.
    """

    code = "EN004"
    name = "segment-too-long"
    summary = "segment longer than the limit (no terminator found)"
    raised_in = "scrubber.x12.reader"


class Unreadable(_FileRule):
    """Bytes that are not X12 text: UTF-16, NUL bytes, binary content.

    ## What it does
    Declares unusable a UTF-16 file or one with NUL bytes.

    ## Why is this bad
    X12 is a text format in a single-byte or UTF-8 encoding; payers reject anything else.

    ## Use instead
    Save the file as ASCII (or UTF-8 without a byte-order mark).
    """

    code = "EN005"
    name = "unreadable"
    summary = "unreadable bytes (UTF-16, NUL bytes, binary)"
    raised_in = "scrubber.x12.reader, scrubber.run.pipeline"


class Truncated(_FileRule):
    """The file ends, or the next envelope starts, before a trailer (SE, GE, IEA).

    ## What it does
    Declares unusable an input with an ST without SE, a GS without GE or an ISA without IEA.

    ## Why is this bad
    The file was cut: the last claims are incomplete and the count of claims is unknown. None of
    its claims reaches a clean file.

    ## Use instead
    Re-send the complete file.
    """

    code = "EN006"
    name = "truncated"
    summary = "truncated: a trailer (SE, GE, IEA) is missing"
    raised_in = "scrubber.x12.model"


class NotProfessional(_FileRule):
    """The transaction is not an 837P 5010 (an 837I, an 837D, a 4010 file, another transaction).

    ## What it does
    Checks ISA12 (00501), ST01 (837), ST03/GS08 (005010X222A1; 005010X222 and 005010X222A2 are
    read) and the service-line segments (SV2 belongs to an 837I, SV3 to an 837D).

    ## Why is this bad
    The scrubber's rules are those of professional claims; an institutional or dental claim
    must go to a scrubber for its own guide.
    """

    code = "EN007"
    name = "not-837p"
    summary = "not an 837P 5010 transaction"
    raised_in = "scrubber.x12.model"


class HeaderTooLong(_FileRule):
    """A transaction header (BHT, 1000A, 1000B) longer than 1000 segments before its first HL."""

    code = "EN008"
    name = "header-too-long"
    summary = "transaction header has more than 1000 segments"
    raised_in = "scrubber.x12.model"


class OutsideEnvelope(_FileRule):
    """A segment outside the envelope it needs (a GS outside an ISA, a segment after the IEA).

    ## What it does
    Declares unusable an input whose envelopes are out of order.

    ## Why is this bad
    A payer's translator cannot tell which interchange or group the segment belongs to.
    """

    code = "EN009"
    name = "outside-envelope"
    summary = "segment outside its envelope"
    raised_in = "scrubber.x12.model"


class NoClaims(_FileRule):
    """The input holds no claim.

    ## What it does
    Declares unusable an 837P whose transaction sets carry no CLM segment.

    ## Why is this bad
    There is nothing to submit; a payer would reject the transaction (a 2000B without a 2300).

    ## Use instead
    Send files that carry claims; leave empty batches out.
    """

    code = "EN010"
    name = "no-claims"
    summary = "the input holds no claim"
    raised_in = "scrubber.run.pipeline"


class InternalError(_FileRule):
    """The scrubber itself failed (a bug): on one claim, or on the whole input.

    ## What it does
    When a claim rule fails on a claim, rejects that claim with one EN011 error at its CLM
    (CLM01) naming the rule and the type of the failure; the rule's findings on that claim are
    dropped, and the other rules and the other claims are checked as usual, so the clean file
    holds the other accepted claims and the rejected 837 holds this one. A failure anywhere
    else while scrubbing an input (reading it, the structural pass, writing the outputs) makes
    the input unusable instead: no clean file is written for it, and the next input goes on.
    EN011 is always an error; the configuration does not change it.

    ## Why is this bad
    A claim that a rule could not check is not known to be clean, so it is not submitted.

    ## Example
    `internal error in rule DP002 (KeyError); the claim was not fully checked; please report it`:
    the message names the rule and the exception's type only, never its text (which could quote
    the claim).

    ## Use instead
    Report the problem with the input's report.json (it carries no patient data). Once fixed,
    scrub the rejected 837 again.

    ## References
    SECURITY.md ("What it never shows": messages and log lines carry no patient data).
    """

    code = "EN011"
    name = "internal-error"
    summary = "the scrubber failed on a claim or on the input (please report)"
    raised_in = "scrubber.check.engine, scrubber.run.pipeline"


class TrailerCount(_FileRule):
    """A trailer count (SE01, GE01, IEA01) that does not match what the file holds.

    ## What it does
    Compares SE01 with the segments ST..SE, GE01 with the transaction sets of the group, IEA01
    with the groups of the interchange.

    ## Why is this bad
    A payer would reject the transaction or group (999 IK5/AK9 code 4/5). The scrubber's outputs
    carry the recounted values, so the claims are not rejected for it: a warning.
    """

    code = "EN101"
    name = "trailer-count"
    summary = "SE01, GE01 or IEA01 count does not match (recomputed in outputs)"
    severity = "warning"
    raised_in = "scrubber.x12.model"


class TrailerControl(_FileRule):
    """A trailer control number (SE02, GE02, IEA02) that differs from its header's.

    ## What it does
    Compares SE02 with ST02, GE02 with GS06, IEA02 with ISA13.

    ## Why is this bad
    A payer would reject the envelope. The outputs write the header's control number in the
    trailer, so this is a warning.
    """

    code = "EN102"
    name = "trailer-control"
    summary = "SE02, GE02 or IEA02 does not match its header (rewritten in outputs)"
    severity = "warning"
    raised_in = "scrubber.x12.model"


class IsaNonStandard(_FileRule):
    """An ISA that is not what translators expect: not 106 characters wide, ISA12 not 00501.

    ## What it does
    Warns when the ISA with its terminator is not exactly 106 characters (its fixed-width
    elements were not padded) or ISA12 is not 00501. The scrubber reads such an ISA by counting
    its elements; many payers' translators do not, and reject the interchange (TA1).

    ## Example
    `ISA*00*         *01*SECRET    *...` (ISA02 with 9 spaces instead of 10)

    ## Use instead
    Pad ISA02, ISA04, ISA06, ISA08 and ISA13 to their fixed widths.
    """

    code = "EN103"
    name = "isa-non-standard"
    summary = "ISA not 106 characters, or ISA12 not 00501"
    severity = "warning"
    raised_in = "scrubber.x12.model"


class EmptySegment(_FileRule):
    """An empty segment (two terminators in a row, ``~~``).

    ## What it does
    Passes over the empty segment and warns; the outputs leave it out.

    ## Why is this bad
    Some translators (pyx12 among them) stop reading at an empty segment and silently drop the
    rest of the file; others reject the interchange.
    """

    code = "EN104"
    name = "empty-segment"
    summary = "empty segment (~~) passed over"
    severity = "warning"
    raised_in = "scrubber.x12.reader"


class UnterminatedSegment(_FileRule):
    """The last segment of the file has no terminator.

    ## What it does
    Reads the last segment anyway and warns; the outputs write it with its terminator.

    ## Why is this bad
    Some translators (pyx12 among them) silently drop a last segment without terminator, usually
    the IEA, and then reject the interchange as truncated.
    """

    code = "EN105"
    name = "unterminated-segment"
    summary = "last segment has no terminator"
    severity = "warning"
    raised_in = "scrubber.x12.reader"


class FileTooLarge(_FileRule):
    """The input is larger than the configured limit (``[limits] file_bytes``, 4 GiB by default).

    ## What it does
    Refuses the file before reading it.

    ## Why is this bad
    A file that large is almost certainly not one submitter's batch; payers cap file sizes too.

    ## Use instead
    Split the batch into several interchanges or files, or raise the limit in scrubber.toml.
    """

    code = "EN012"
    name = "file-too-large"
    summary = "file larger than the configured limit"
    raised_in = "scrubber.run.pipeline"


class OverLimit(_FileRule):
    """The input goes past a safety limit (``[limits]`` in scrubber.toml): too many elements in a
    segment or components in an element, too many empty segments, one claim with too many
    segments or bytes, a billing provider, subscriber or patient loop with too many segments,
    too many envelopes (ISA, GS, ST) in one file, or too many structural errors to hold.

    ## What it does
    Stops reading and declares the input unusable, so that hostile input cannot make the
    scrubber use unbounded memory or time.

    ## Why is this bad
    No 837P segment has more than a few dozen elements, no composite more than a dozen
    components, no claim more than a few thousand segments (50 service lines) and no name or
    address loop more than a few dozen segments; such input is broken or hostile.

    ## Use instead
    Fix the file (usually a missing segment terminator, a loop written again and again, or an
    element separator used as a component separator), or raise the limit in scrubber.toml.
    """

    code = "EN013"
    name = "over-limit"
    summary = "input over a safety limit (elements, components, empty segments, loop, claim or envelope size)"
    raised_in = "scrubber.x12.reader, scrubber.x12.model, scrubber.check.structure.structure_pass"


class FindingsCut(_FileRule):
    """More findings than the limit for one claim (``[limits] claim_findings``) or for the
    report's top level (``[limits] file_findings``): the first ones are listed, this one finding
    stands for the rest.

    ## What it does
    Counts the findings left out by rule and gives them as one finding, at the severity of the
    most severe of them, so that the claim's (or the file's) verdict is the same as with every
    finding listed. The summary counts (errors, warnings) count them all.

    ## Why is this bad
    Hundreds of findings on one claim are one fault repeated (an element written many times, a
    loop sent again and again); listing them all would make reports of hostile input unbounded.

    ## Use instead
    Fix the first findings listed; the rest usually go with them.
    """

    code = "EN106"
    name = "findings-cut"
    summary = "more findings than the limit: the rest summarised in one finding"
    severity = "info"
    raised_in = "scrubber.findings, scrubber.run.pipeline"
