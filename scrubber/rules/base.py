"""What every rule is: a small class with a stable code, a severity, a summary and its docs.

Defining a class with a ``code`` registers it (:data:`REGISTRY`); a class without one is shared
plumbing of a family. A claim rule is a pure function of the claim and its shared facts
(:class:`~scrubber.rules.facts.ClaimFacts`, which also give the as-of date, the options and the
maps): ``check`` returns or yields findings with the contract's location fields. A rule keeps no
state between claims. Whether a finding is reported, and how severe, is decided by the engine
(:mod:`scrubber.check.decide`) from the configuration, so a rule only says what it found and where.

``concerns`` names a gate: a boolean fact of :class:`~scrubber.rules.facts.ClaimFacts` that is a
necessary condition of the rule's findings (closed: the rule would find nothing). The engine asks
the gates once per claim and runs only the rules whose gate is open. Most gates are bits of the one
claim pass (``facts.GATES``: a bad amount, a date past the as-of date, a repeated procedure ...);
a gate that reads a code table is a fact of its family's ``_common.py`` (``ptp_pairs``). A new
gate needs a case in ``tests/test_gates.py``'s inputs where it is closed.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from scrubber.findings import Ack, Finding
from scrubber.limits import Limits
from scrubber.x12.reader import Segment

if TYPE_CHECKING:
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim

#: Every rule by its stable code, in code order once the rules are loaded (see scrubber.rules).
REGISTRY: dict[str, type[Rule]] = {}


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    severity: ClassVar[str] = "error"
    ack: ClassVar[str | None] = None  # "A7:477"
    scope: ClassVar[str] = "claim"  # "claim", or "file" for envelope rules raised by the reader
    source: ClassVar[str] = ""  # where the rule comes from (guide section, CMS manual, LCD ...)
    raised_in: ClassVar[str] = ""  # for codes not raised by a claim rule: the module that raises them
    concerns: ClassVar[str | None] = None  # a boolean ClaimFacts attribute: False skips the rule
    _parsed_ack: ClassVar[Ack | None] = None  # ``ack`` parsed, once a class

    def __init_subclass__(cls, register: bool = True, **kwargs):
        """Registers the class under its ``code``; ``register=False`` keeps a rule out of the
        registry (a test's throwaway rule, passed to an engine by hand)."""
        super().__init_subclass__(**kwargs)
        cls._parsed_ack = Ack.parse(cls.ack)  # (parsed once a class: see finding)
        code = cls.__dict__.get("code")
        if not code or not register:
            return  # shared plumbing of a family, not itself a rule
        known = REGISTRY.get(code)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise RuntimeError(f"rule code {code} defined twice: {known.__module__} and {cls.__module__}")
        REGISTRY[code] = cls

    def check(self, claim: Claim, facts: ClaimFacts) -> Iterable[Finding]:  # pragma: no cover - interface
        return ()

    # Helpers for subclasses -------------------------------------------------------------
    def finding(
        self,
        seg: Segment | None,
        message: str,
        element: str | None = None,
        value: str | None = None,
        ack: str | None = None,
        severity: str | None = None,
    ) -> Finding:
        parsed = Ack.parse(ack) if ack else self._parsed_ack
        if seg is None:
            return Finding(self.code, severity or self.severity, message, element=element, value=value, ack=parsed)
        return Finding(self.code, severity or self.severity, message, seg.loop or None, seg.id, seg.position, element,
                       value, parsed, seg.offset)

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or cls.summary)


@dataclass
class Context:
    """What rules may consult besides the claim: the as-of date, options, and the maps.

    Maps are loaded on first use and cached here, so a run that never needs one never pays for it.
    """

    as_of: date
    options: dict = field(default_factory=dict)  # rule options from the configuration
    maps: dict = field(default_factory=dict)  # loaded maps by name (see ``map``)
    limits: Limits = field(default_factory=Limits)  # input limits (config [limits])
    # The claims met so far in the input being scrubbed (scrubber.rules.payer._common.FileLedger),
    # opened by the engine for each input; None outside a scrub (the cross-claim rules then pass).
    ledger: object | None = None

    @property
    def icd10cm(self):
        """The ICD-10-CM table (scrubber.codesets.icd10cm.Icd10cm)."""
        table = self.maps.get("icd10cm")
        if table is None:
            from scrubber.codesets.icd10cm import load_icd10cm

            table = self.maps["icd10cm"] = load_icd10cm()
        return table

    def map(self, name: str, loader):
        """A map loaded once by ``loader()`` and cached under ``name``."""
        value = self.maps.get(name)
        if value is None:
            value = self.maps[name] = loader()
        return value
