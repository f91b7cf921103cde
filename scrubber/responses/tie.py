"""Tying payer answers to the submitted claims, and each claim's verdict.

- a TA1 by ISA13 (TA101): every claim of that interchange;
- a 999 by GS06 (AK102) and ST02 (AK202): every claim of that transaction set, its IK3 positions
  located in the submitted set (the claim whose loops hold the segment; a header segment, or one
  no claim holds, concerns every claim of the set);
- a 277CA claim by 2200D TRN02 (= CLM01), told apart by its amount (STC04 = CLM02) when a CLM01
  is used twice; its 2220D lines by line item control number or procedure;
- an 835 claim by CLP01 (CLP03 = CLM02 when a CLM01 is used twice), its lines (SVC) by line item
  control number (REF*6R), else by procedure (SVC06 when the payer changed it, else SVC01-2).

The latest answer in the chain TA1 -> 999 -> 277CA -> 835 decides the claim's verdict; the codes
and segments of every answer are listed. An answer that matches nothing is listed as unmatched
in its response's entry, with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from scrubber.responses import codes as C
from scrubber.responses.inbound import KINDS, ClaimAnswer, ResponseFile, amount
from scrubber.responses.submitted import Located, SubmittedClaim, SubmittedClaims

SCHEMA = "x12-scrubber/responses@1"
STATUSES = ("accepted", "rejected", "paid", "denied", "pending", "none")
BAD = ("rejected", "denied")
_RANK = {kind: i for i, kind in enumerate(KINDS)}
_ACCEPTED_CATEGORIES = {"A0", "A1", "A2", "A5"}
_REJECTED_CATEGORIES = {"A3", "A4", "A6", "A7", "A8", "E0", "D0"}


@dataclass
class Answer:
    kind: str
    status: str
    codes: list[dict] = field(default_factory=list)
    where: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _code(code: str, kind: str, text: str, line: int | None = None) -> dict:
    out = {"code": code, "kind": kind, "text": text}
    if line is not None:
        out["line"] = line
    return out


def _element_ref(segment: str, position: str) -> str | None:
    parts = [p for p in position.split(":") if p]
    if not parts or not parts[0].isdigit():
        return None
    ref = f"{segment}{int(parts[0]):02d}"
    if len(parts) > 1 and parts[1].isdigit():
        ref += f"-{int(parts[1])}"
    return ref


def _value(found: Located | None, position: str) -> str | None:
    if found is None:
        return None
    parts = [int(p) for p in position.split(":") if p.isdigit()]
    if not parts or parts[0] >= len(found.elements):
        return None
    value = found.elements[parts[0]]
    if len(parts) > 1 and value != "[masked]":
        comps = value.split(found.component)
        value = comps[parts[1] - 1] if 0 < parts[1] <= len(comps) else ""
    return value or None


class Tie:
    def __init__(self, submitted: SubmittedClaims):
        self.sub = submitted
        self.by_isa: dict[str, list[int]] = {}
        self.by_tx: dict[tuple[str, str], list[int]] = {}
        self.by_group: dict[str, list[int]] = {}
        self.by_id: dict[str, list[int]] = {}
        for c in submitted.claims:
            self.by_isa.setdefault(c.interchange.strip(), []).append(c.index)
            self.by_tx.setdefault((c.group, c.transaction), []).append(c.index)
            self.by_group.setdefault(c.group, []).append(c.index)
            self.by_id.setdefault(c.claim_id, []).append(c.index)
        self.answers: dict[int, list[Answer]] = {}
        self.entries: list[dict] = []

    # ---------------------------------------------------------------------------------------
    def add(self, response: ResponseFile) -> None:
        for kind in response.kinds:
            entry = {"name": response.name, "kind": kind, "matched": 0, "unmatched": []}
            self.entries.append(entry)
            if kind == "TA1":
                self._ta1(response, entry)
            elif kind == "999":
                self._999(response, entry)
            else:
                self._claims(response, kind, entry)

    def _give(self, index: int, answer: Answer) -> None:
        self.answers.setdefault(index, []).append(answer)

    def _ta1(self, response: ResponseFile, entry: dict) -> None:
        for t in response.ta1:
            found = self.by_isa.get(t.isa13) or self.by_isa.get(t.isa13.lstrip("0") or "0")
            if not found:
                entry["unmatched"].append(f"TA1 for interchange {t.isa13}: no interchange with that ISA13 in the submitted file")
                continue
            entry["matched"] += 1
            status = "rejected" if t.status == "R" else "accepted"
            codes = [_code(t.status, "TA1 TA104", C.text("ta1_ack", t.status))]
            if t.note and t.note != "000":
                codes.append(_code(t.note, "TA1 TA105", C.text("ta1_note", t.note)))
            where = [{"segment": "ISA", "position": None, "loop": None, "element": "ISA13", "value": t.isa13}]
            for i in found:
                self._give(i, Answer("TA1", status, codes, where if status == "rejected" else []))

    def _999(self, response: ResponseFile, entry: dict) -> None:
        for g in response.groups:
            in_group = self.by_group.get(g.gs06)
            if not in_group:
                entry["unmatched"].append(f"999 AK1 for group {g.gs06}: no functional group with that GS06 in the submitted file")
                continue
            entry["matched"] += 1
            answered = set()
            group_codes = [_code(c, "999 AK905", C.text("ak9", c)) for c in g.codes]
            for s in g.sets:
                key = (g.gs06, s.st02)
                found = self.by_tx.get(key)
                if not found:
                    entry["unmatched"].append(
                        f"999 AK2 for transaction set {s.st02} of group {g.gs06}: no such ST02 in that group of the submitted file")
                    continue
                if s.status not in ("A", "E", "R", "M", "W", "X"):
                    entry["unmatched"].append(f"999 AK2 for transaction set {s.st02} of group {g.gs06}: no IK5 verdict")
                    continue
                answered.add(key)
                status = "accepted" if s.status in ("A", "E") else "rejected"
                base = [_code(c, "999 IK502", C.text("ik5", c)) for c in s.codes]
                if s.status and s.status != "A":
                    base.insert(0, _code(s.status, "999 IK501", C.text("ik501", s.status)))
                owned = self._owners(key, s.errors)
                for i in found:
                    codes, where = list(base), []
                    for err in s.errors:
                        owner = owned.get(id(err))
                        if owner is not None and i not in owner:
                            continue  # the segment is in another claim's loops
                        codes.append(_code(err.code, "999 IK304", C.text("ik304", err.code)))
                        located = self._located(i, key, err.position)
                        segment = err.segment or (located.segment if located else "")
                        if not err.elements:
                            where.append({"segment": segment or None, "position": err.position,
                                          "loop": (located.loop if located else None) or err.loop or None,
                                          "element": None, "value": None})
                        for el in err.elements:
                            codes.append(_code(el.code, "999 IK403", C.text("ik403", el.code)))
                            value = _value(located, el.position)
                            if value is None and el.code == "7" and el.value:
                                value = el.value
                            where.append({"segment": segment or None, "position": err.position,
                                          "loop": (located.loop if located else None) or err.loop or None,
                                          "element": _element_ref(segment, el.position) if segment else None,
                                          "value": value})
                    if status == "rejected":
                        codes.extend(group_codes)
                    self._give(i, Answer("999", status, codes, where))
            if g.status in ("A", "R"):  # sets the AK2s do not name: the group's verdict holds for them
                status = "accepted" if g.status == "A" else "rejected"
                codes = [_code(g.status, "999 AK901", C.text("ik501", g.status))] + group_codes
                # (a GS06 may recur in other interchanges: only those of the sets named, if any)
                hit = {self.sub.claims[i].interchange for key in answered for i in self.by_tx[key]}
                for i in in_group:
                    c = self.sub.claims[i]
                    if (c.group, c.transaction) not in answered and (not hit or c.interchange in hit):
                        self._give(i, Answer("999", status, codes if status == "rejected" else []))

    def _owners(self, key, errors) -> dict[int, set[int]]:
        """For each IK3 located in claims' loops: the claims whose loops hold it."""
        out: dict[int, set[int]] = {}
        for err in errors:
            if err.position is None:
                continue
            owners = {i for i in self.by_tx.get(key, ()) if err.position in self.sub.claims[i].found}
            if owners:
                out[id(err)] = owners
        return out

    def _located(self, index: int, key, position: int | None) -> Located | None:
        if position is None:
            return None
        found = self.sub.claims[index].found.get(position)
        if found is None:
            found = self.sub.header.get(key, {}).get(position)
        if found is None:  # a segment of another claim (the claims of one set share the 999's verdict)
            for i in self.by_tx.get(key, ()):
                found = self.sub.claims[i].found.get(position)
                if found is not None:
                    break
        return found

    # ---------------------------------------------------------------------------------------
    def _claims(self, response: ResponseFile, kind: str, entry: dict) -> None:
        taken: dict[int, int] = {}
        for answer in response.claims:
            if answer.kind != kind:
                continue
            found = self.by_id.get(answer.claim_id)
            if not found:
                entry["unmatched"].append(
                    f"{kind} claim {answer.claim_id or '(no id)'}: no claim with that CLM01 in the submitted file")
                continue
            if len(found) > 1 and answer.charge is not None:  # a CLM01 used twice: the amount tells
                same = [i for i in found if amount(self.sub.claims[i].charge) == answer.charge]
                found = same or found
            if len(found) > 1:  # still several: the first not yet answered by this file
                free = [i for i in found if taken.get(i, 0) == 0]
                found = free[:1] or found[:1]
            entry["matched"] += 1
            for i in found:
                taken[i] = taken.get(i, 0) + 1
                claim = self.sub.claims[i]
                made = self._277(claim, answer, entry) if kind == "277CA" else self._835(claim, answer, entry)
                charge = amount(claim.charge)
                if answer.charge is not None and charge is not None and answer.charge != charge:
                    made.notes.append(f"the {kind} gives the claim's amount as {answer.charge}, CLM02 is {claim.charge}")
                self._give(i, made)

    def _claim_where(self, claim: SubmittedClaim) -> dict:
        return {"segment": "CLM", "position": claim.position, "loop": "2300", "element": "CLM01", "value": claim.claim_id}

    def _line_where(self, line) -> dict:
        return {"segment": "SV1", "position": line.position, "loop": "2400", "element": "SV101-2", "value": line.procedure}

    def _match_lines(self, claim: SubmittedClaim, answer: ClaimAnswer, entry: dict, kind: str) -> list:
        used: set[int] = set()
        out = []
        for la in answer.lines:
            hit = None
            if la.control:
                hit = next((ln for ln in claim.lines if ln.control and ln.control == la.control and ln.number not in used), None)
            procedure = la.original or la.procedure
            if hit is None:
                same = [ln for ln in claim.lines if ln.procedure == procedure and ln.number not in used]
                if len(same) > 1 and la.charge is not None:
                    same = [ln for ln in same if amount(ln.charge) == la.charge] or same
                hit = same[0] if same else None
            if hit is None:
                entry["unmatched"].append(
                    f"{kind} claim {answer.claim_id} line {procedure or '(no procedure)'}: no service line of that "
                    "procedure in the submitted claim")
            else:
                used.add(hit.number)
            out.append((la, hit))
        return out

    def _277(self, claim: SubmittedClaim, answer: ClaimAnswer, entry: dict) -> Answer:
        categories = [s.split(":")[0] for s in answer.statuses]
        lines = self._match_lines(claim, answer, entry, "277CA")
        line_categories = [s.split(":")[0] for la, _ in lines for s in la.statuses]
        if any(c in _REJECTED_CATEGORIES for c in categories) or (
                not categories and any(c in _REJECTED_CATEGORIES for c in line_categories)):
            status = "rejected"
        elif any(c[:1] in ("P", "R", "E") for c in categories):
            status = "pending"
        elif any(c == "F2" for c in categories):
            status = "denied"
        elif any(c == "F1" for c in categories):
            status = "paid"
        else:
            status = "accepted"
        made = Answer("277CA", status)
        made.codes = [_code(s, "277CA STC", C.stc_text(s)) for s in answer.statuses]
        line_bad = False
        for la, hit in lines:
            for s in la.statuses:
                made.codes.append(_code(s, "277CA STC", C.stc_text(s), hit.number if hit else None))
            if hit is not None and any(s.split(":")[0] in _REJECTED_CATEGORIES for s in la.statuses):
                made.where.append(self._line_where(hit))
                line_bad = True
        if status == "rejected" and not line_bad:
            made.where.insert(0, self._claim_where(claim))
        return made

    def _835(self, claim: SubmittedClaim, answer: ClaimAnswer, entry: dict) -> Answer:
        lines = self._match_lines(claim, answer, entry, "835")
        adjustments = list(answer.adjustments) + [a for la, _ in lines for a in la.adjustments]
        paid = answer.paid if answer.paid is not None else Decimal(0)
        if answer.status in ("4", "23"):
            status = "denied"
        elif answer.status in ("22", "25"):
            status = "pending"
        elif paid > 0 or (adjustments and all(g == "PR" for g, _, _ in adjustments)):
            status = "paid"
        else:
            status = "denied"
        made = Answer("835", status)
        if answer.status:
            made.codes.append(_code(answer.status, "835 CLP02", C.text("clp02", answer.status)))
        for group, reason, _amt in answer.adjustments:
            made.codes.append(_code(f"{group}-{reason}", "835 CAS", C.cas_text(group, reason)))
        for remark in answer.remarks:
            made.codes.append(_code(remark, "835 RARC", C.text("rarc", remark)))
        denied_line = False
        for la, hit in lines:
            number = hit.number if hit else None
            for group, reason, _amt in la.adjustments:
                made.codes.append(_code(f"{group}-{reason}", "835 CAS", C.cas_text(group, reason), number))
            for remark in la.remarks:
                made.codes.append(_code(remark, "835 RARC", C.text("rarc", remark), number))
            line_paid = la.paid if la.paid is not None else Decimal(0)
            if hit is not None and line_paid == 0 and any(g != "PR" for g, _, _ in la.adjustments):
                made.where.append(self._line_where(hit))
                denied_line = True
        if status == "denied" and not denied_line:
            made.where.insert(0, self._claim_where(claim))
        return made

    # ---------------------------------------------------------------------------------------
    def claim_json(self, claim: SubmittedClaim) -> dict:
        answers = sorted(self.answers.get(claim.index, []), key=lambda a: _RANK[a.kind])
        payer: dict = {"status": "none", "source": None, "codes": [], "where": []}
        if answers:
            last = answers[-1]
            payer["status"], payer["source"] = last.status, last.kind
            for a in answers:
                payer["codes"].extend(a.codes)
                for w in a.where:
                    if w not in payer["where"]:
                        payer["where"].append(w)
            notes = [n for a in answers for n in a.notes]
            if notes:
                payer["notes"] = notes
            payer["chain"] = [{"source": a.kind, "status": a.status} for a in answers]
        predicted = {"status": claim.predicted, "rules": claim.rules, "warnings": claim.warnings}
        agrees = None
        if payer["status"] in ("accepted", "paid", "rejected", "denied"):
            agrees = (payer["status"] in BAD) == (claim.predicted == "rejected")
        return {"claim_id": claim.claim_id, "interchange": claim.interchange, "group": claim.group,
                "transaction": claim.transaction, "charge": claim.charge, "payer": payer, "predicted": predicted,
                "agrees": agrees}

    def document(self, name: str, sha256: str) -> dict:
        return {"schema": SCHEMA, "submitted": {"name": name, "sha256": sha256}, "responses": self.entries,
                "claims": [self.claim_json(c) for c in self.sub.claims]}


def wanted_positions(responses: list[ResponseFile]) -> dict[tuple[str, str], set[int]]:
    """(GS06, ST02) -> the positions the 999s point at (the segments to find in the submitted file)."""
    out: dict[tuple[str, str], set[int]] = {}
    for r in responses:
        for g in r.groups:
            for s in g.sets:
                for e in s.errors:
                    if e.position is not None:
                        out.setdefault((g.gs06, s.st02), set()).add(e.position)
    return out


def exit_status(document: dict) -> int:
    return 1 if any(c["payer"]["status"] in BAD for c in document["claims"]) else 0
