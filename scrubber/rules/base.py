"""What every rule is: a small class with a stable code, a severity, a summary and its docs.

A claim rule is a pure function of a claim (and the maps, through the context): ``check`` yields
findings with the contract's location fields. Severity and selection are applied by the engine
from the configuration, so a rule only says what it found and where.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from ..findings import Ack, Finding
from ..limits import Limits
from ..reader import Segment

if TYPE_CHECKING:
    from ..model import Claim


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    severity: ClassVar[str] = "error"
    ack: ClassVar[str | None] = None  # "A7:477"
    scope: ClassVar[str] = "claim"  # "claim", or "file" for envelope rules raised by the reader
    source: ClassVar[str] = ""  # where the rule comes from (guide section, CMS manual, LCD ...)

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:  # pragma: no cover - interface
        return iter(())

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
        return Finding.at(
            self.code, severity or self.severity, message, seg, element, value, Ack.parse(ack or self.ack)
        )

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

    @property
    def icd10cm(self):
        """The ICD-10-CM table (scrubber.codesets.icd10cm.Icd10cm)."""
        table = self.maps.get("icd10cm")
        if table is None:
            from ..codesets.icd10cm import load_icd10cm

            table = self.maps["icd10cm"] = load_icd10cm()
        return table

    def map(self, name: str, loader):
        """A map loaded once by ``loader()`` and cached under ``name``."""
        value = self.maps.get(name)
        if value is None:
            value = self.maps[name] = loader()
        return value
