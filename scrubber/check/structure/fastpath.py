"""One segment's errors, fast: the remembered answer, a generated check, or the exact checks.

:func:`segment_errors` is what the validator calls for each segment it has placed on its map
node. A segment's errors are a pure function of its text and its node, so:

1. a text seen before (per node, bounded by :mod:`.caches`) gives its remembered errors;
2. otherwise the node's generated check (:func:`generate`: the node's element, composite and
   syntax checks compiled, on first use, into one Python function ``ok(els) -> bool``) tells in
   one call whether the segment is certainly free of errors;
3. only a segment it does not pass goes through :func:`.elements.exact_errors`, which gives
   pyx12's errors one by one.

A generated check only ever says "no error" where the exact checks find none (it is stricter
where in doubt); nodes it cannot express (ISA, DTP, date-qualified elements, an element with no
fast check) always take the exact path.
"""

from __future__ import annotations

from typing import Any

from scrubber.check.structure.caches import SEGMENTS_MAX, TEXT_MAX, USED
from scrubber.check.structure.elements import (
    BAD_E, BAD_E5, FULL_N, FULL_R, NO_ERRORS, Seg, exact_errors, valid_type, value_errors,
)
from scrubber.check.structure.tables import EleNode, SegNode

__all__ = ["segment_errors", "generate"]


def _NO_FAST(els: list) -> bool:  # a map segment with no generated check
    return False


def segment_errors(node: SegNode, seg: Seg, e5: bool, text: str) -> list:
    """pyx12's ``segment_if.is_valid_errors`` with :mod:`.pyx12run`'s repair of its crash on a
    composite with too many components; a pure function of the segment's text, so remembered per
    node (bounded)."""
    cache = node.cache
    found = cache.get(text)
    if found is not None:
        return found
    fast = node.fast
    if fast is None:
        fast = node.fast = generate(node) or _NO_FAST
    if fast is not _NO_FAST and not seg.isa and fast(seg.els):
        found = NO_ERRORS
    else:
        found = exact_errors(node, seg, e5) or NO_ERRORS
    if USED["segments"] < SEGMENTS_MAX and len(text) <= TEXT_MAX:
        USED["segments"] += 1
        cache[text] = found
    return found


def _value_check(n: EleNode, var: str, env: dict, e5: bool) -> list[str] | None:
    """Source lines that ``return False`` unless the non-empty value ``var`` passes every check
    of element ``n`` (None: no fast check; the exact path decides)."""
    k = len(env)
    if n.codes or n.external is not None:
        pool = set(n.codes) | (set(n.ext_set) if n.external is not None and n.ext_set is not None else set())
        if n.external is not None and n.ext_set is None:
            return None
        ok = {c for c in pool if c and not value_errors(n, c, None, e5)}
        env[f"OK{k}"] = frozenset(ok)
        return [f"if {var} not in OK{k}: return False"]
    dt = n.data_type
    lines = []
    if n.numeric:
        lines.append(f"ln = len({var}.replace('-', '').replace('.', ''))")
    else:
        lines.append(f"ln = len({var})")
    lines.append(f"if ln < {n.min_len} or ln > {n.max_len}: return False")
    if dt in ("AN", "ID"):
        env["BAD"] = BAD_E5 if e5 else BAD_E
        lines.append(f"if {var}[-1] == ' ' or BAD.search({var}) is not None: return False")
    elif dt and dt[0] == "N":
        env["FULL_N"] = FULL_N
        lines.append(f"if FULL_N.fullmatch({var}) is None: return False")
    elif dt == "R":
        env["FULL_R"] = FULL_R
        lines.append(f"if FULL_R.fullmatch({var}) is None: return False")
    elif dt in ("DT", "D8", "D6", "TM"):
        env["valid_type"] = valid_type
        lines.append(f"if not valid_type({var}, {dt!r}, {e5!r}): return False")
    else:
        return None
    if n.regex is not None:
        env[f"RE{k}"] = n.regex
        lines.append(f"if RE{k}.search({var}) is None: return False")
    return lines


def _empty_is_error(n: EleNode) -> bool:
    return n.usage == "R" and (n.seq != 1 or n.parent_composite is None or n.composite_usage == "R")


def generate(node: SegNode) -> Any:
    """Compile ``node``'s checks into one function ``ok(els) -> bool`` (True: no error at all), or
    None where the exact path must always run (ISA, DTP and date-qualified elements)."""
    els = node.elements
    if els is None or node.id in ("ISA", "DTP") or any(
            (c.data_ele in ("1250", "1251")) for c in els if not c.is_composite):
        return None
    env: dict = {}
    src = ["def ok(els):", " n = len(els)", f" if n > {len(els)}: return False"]
    for i, child in enumerate(els):
        body: list[str] = []
        if child.is_composite:
            cc = len(child.children)
            if child.usage == "N":
                body += ["if v.strip(':'): return False"]
            else:
                body += ["c = v.split(':')", f"if len(c) > {cc}: return False", "if not v.strip(':'):"]
                body += [" return False" if child.usage == "R" else " pass", "else:"]
                for j, sub in enumerate(child.children):
                    inner = [f"if len(c) > {j} and c[{j}]:"]
                    if sub.usage == "N":
                        inner += [" return False"]
                    else:
                        checks = _value_check(sub, f"c[{j}]", env, node.e5)
                        if checks is None:
                            return None
                        inner += [" " + line for line in checks]
                    if _empty_is_error(sub):
                        inner += ["else:", " return False"]
                    body += [" " + line for line in inner]
            missing = ["return False"] if child.usage == "R" else []
        else:
            body += ["if ':' in v: return False", "if v:"]
            if child.usage == "N":
                body += [" return False"]
            else:
                checks = _value_check(child, "v", env, node.e5)
                if checks is None:
                    return None
                body += [" " + line for line in checks]
            if _empty_is_error(child):
                body += ["else:", " return False"]
            missing = ["return False"] if _empty_is_error(child) else []
        src.append(f" if n > {i}:")
        src.append(f"  v = els[{i}]")
        src += ["  " + line for line in body]
        if missing:
            src.append(" else:")
            src += ["  " + line for line in missing]
    for syn in node.syntax:
        code, idx = syn[0], [int(x) for x in syn[1:]]
        if len(syn) < 3 or code not in "PREC L":
            return None
        pres = [f"(n >= {x} and els[{x - 1}].strip(':') != '')" for x in idx]
        if code == "P":
            src.append(f" k = {' + '.join(pres)}")
            src.append(f" if k != 0 and k != {len(idx)}: return False")
        elif code == "R":
            src.append(f" if not ({' or '.join(pres)}): return False")
        elif code == "E":
            src.append(f" if {' + '.join(pres)} > 1: return False")
        elif code == "C":
            src.append(f" if {pres[0]} and {' + '.join(pres[1:])} != {len(idx) - 1}: return False")
        elif code == "L":
            src.append(f" if {pres[0]} and not ({' or '.join(pres[1:])}): return False")
    src.append(" return True")
    exec("\n".join(src), env)  # noqa: S102 - source built above from the map, no input data
    return env["ok"]
