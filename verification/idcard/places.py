"""Province, city and county names at the start of an address, checked against the
official division list (the one the ID-number rules use): OCR's one-character slips in
a place name (埇桥区 read as 埔桥区) are put right when exactly one official name under
the same parent is one character away."""

from __future__ import annotations

from functools import cache

from rules import idnumber

SHORT = ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区")


@cache
def _children() -> dict[str, list[str]]:
    """Parent code ('' for provinces) → the names of the divisions under it."""
    table = idnumber._division_table()
    out: dict[str, list[str]] = {}
    for code, name in table.items():
        if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        if code.endswith("0000"):
            parent = ""
        elif code.endswith("00"):
            parent = code[:2] + "0000"
        else:
            parent = code[:4] + "00"
        out.setdefault(parent, []).append(name)
    return out


@cache
def _codes() -> dict[tuple[str, str], str]:
    """(parent code, name) → code."""
    out: dict[tuple[str, str], str] = {}
    for code, name in idnumber._division_table().items():
        parent = (
            ""
            if code.endswith("0000")
            else code[:2] + "0000"
            if code.endswith("00")
            else code[:4] + "00"
        )
        out[(parent, name)] = code
    return out


def _forms(name: str) -> list[str]:
    """The name and its short form as addresses often print it (内蒙古 for 内蒙古自治区)."""
    forms = [name]
    for suffix in SHORT:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            forms.append(name[: -len(suffix)])
    return forms


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def correct(address: str) -> tuple[str, bool]:
    """The address with its leading place names put right, and whether anything changed."""
    parents = [""]
    rest, done, changed = address, "", False
    for _level in range(3):
        names = [n for p in parents for n in _children().get(p, [])]
        exact = [(f, n) for n in names for f in _forms(n) if rest.startswith(f)]
        if exact:
            form, name = max(exact, key=lambda pair: len(pair[0]))
        else:
            near = {
                (f, n)
                for n in names
                for f in _forms(n)
                if len(f) >= 3 and _one_off(rest[: len(f)], f)
            }
            if len({n for _f, n in near}) != 1:
                break
            form, name = next(iter(near))
            rest = form + rest[len(form) :]
            changed = True
        done, rest = done + form, rest[len(form) :]
        parents = [_codes()[(p, name)] for p in parents if (p, name) in _codes()]
        # Direct-administered cities list their districts under 市辖区 (XX01 00).
        parents += [p[:2] + "0100" for p in parents if p.endswith("0000")]
    return done + rest, changed
