"""The one interface of every output: a :class:`Sink` gets the events of a scrub, in file order.

The JSON report, the clean and rejected 837s, the text summary, CSV and HTML views, the progress
bar and the 999 and 277CA acknowledgments are sinks; so are the listing of ``scrubber explain``
and the watcher's interchange collector. Each overrides only the hooks it needs; the others do
nothing. The pipeline (:func:`scrubber.run.pipeline.scrub`) calls, for one input::

    start(outcome)
    interchange(event) / group(event) / transaction(event)      envelopes opened
    claim(result)                                                each claim, with its findings
    transaction_end(event) / group_end(event) / interchange_end(event)
    discard()                                                    only when the input is unusable
    finish(outcome)

``discard`` says that the input was found unusable on the way: a sink drops what it has
written so far that must not be kept (the clean and rejected 837s leave nothing); ``finish``
follows all the same, with ``outcome.status == "unusable"``, for the sinks that report it. The
sinks finish in their order: a file sink records the file it put in place in the outcome
(``outputs``, ``report_path``), so that the sinks after it can name it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (annotations only)
    from scrubber.report.outcome import ClaimOutcome, FileOutcome
    from scrubber.x12.model import Group, GroupEnd, Interchange, InterchangeEnd, Transaction, TransactionEnd


class Sink:
    """An output of the scrub; every hook does nothing unless overridden."""

    def start(self, outcome: FileOutcome) -> None:
        """Before the first event (``outcome`` is the input's, filled as the scrub goes)."""

    def interchange(self, event: Interchange) -> None:
        """An ISA."""

    def group(self, event: Group) -> None:
        """A GS."""

    def transaction(self, event: Transaction) -> None:
        """An ST with its header (up to the first HL)."""

    def claim(self, result: ClaimOutcome) -> None:
        """A claim, checked: its findings and status."""

    def transaction_end(self, event: TransactionEnd) -> None:
        """The SE of the transaction set."""

    def group_end(self, event: GroupEnd) -> None:
        """The GE of the group."""

    def interchange_end(self, event: InterchangeEnd) -> None:
        """The IEA of the interchange."""

    def discard(self) -> None:
        """The input is unusable: drop the partial files that must not be kept."""

    def finish(self, outcome: FileOutcome) -> None:
        """After the last event, the outcome complete."""


HOOKS = ("start", "interchange", "group", "transaction", "claim", "transaction_end", "group_end",
         "interchange_end", "discard", "finish")


def overriding(sinks, hook: str) -> list:
    """The bound ``hook`` methods of the sinks that override it, in order (the others would do
    nothing: the pipeline does not call them)."""
    base = getattr(Sink, hook)
    return [getattr(s, hook) for s in sinks if getattr(type(s), hook, base) is not base]
