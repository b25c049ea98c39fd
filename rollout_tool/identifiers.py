"""Identifiers: what a valid one looks like, and when two are too alike."""

from __future__ import annotations

import re
import unicodedata

IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9._-]*")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]*")
MAX_LENGTH = 100

# Letters from other scripts that render like Latin ones, and ASCII that is
# easily misread. Enough to catch a spoofed team or product name; the full
# Unicode confusables table would be overkill for lower-case ASCII identifiers.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ν": "v", "ο": "o",
        "α": "a", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ε": "e",
        "0": "o", "1": "l", "i": "l", "|": "l", "_": "-", ".": "-",
    }
)  # fmt: skip


def is_identifier(name: str) -> bool:
    return len(name) <= MAX_LENGTH and IDENTIFIER.fullmatch(name) is not None


def is_version(name: str) -> bool:
    return len(name) <= MAX_LENGTH and VERSION.fullmatch(name) is not None


def skeleton(name: str) -> str:
    """A form in which names that a person could mistake for each other are equal."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return stripped.translate(_CONFUSABLES).replace("rn", "m")


def collisions(names: list[str]) -> list[tuple[str, str]]:
    """Pairs (earlier, later) of distinct names with the same skeleton, in sorted order."""
    first: dict[str, str] = {}
    pairs = []
    for name in sorted(names):
        key = skeleton(name)
        if key in first:
            pairs.append((first[key], name))
        else:
            first[key] = name
    return pairs


# Characters git refuses anywhere in a ref name (git check-ref-format), and `%`,
# the escape itself.
_REF_REFUSED = frozenset(" ~^:?*[\\%/\x7f")


def tag_name(product: str, version: str) -> str:
    r"""The git tag of a release: `<product>/<version>`, a valid ref name for every product and version.

    Each part is kept as written except where git would refuse it, where the
    character is percent-escaped (its UTF-8 bytes as `%XX`): `~ ^ : ? * [ \ /`,
    spaces, control and non-ASCII characters, `%` itself, a `.` that starts or
    ends a part or follows another `.`, the `.` of a trailing `.lock`, the `{`
    of `@{`, and a leading `-`. `%` is always escaped, so percent-decoding gives
    the product and version back: two releases never share a tag.
    1.9.1~rc1 is tagged `1.9.1%7Erc1`, 1..2 `1.%2E2`, a.lock `a%2Elock`.
    """
    return f"{_ref_part(product)}/{_ref_part(version)}"


def _ref_part(text: str) -> str:
    out = []
    last = len(text) - 1
    for at, char in enumerate(text):
        escape = (
            char in _REF_REFUSED
            or not " " < char < "\x7f"
            or (char == "." and (at in (0, last) or text[at - 1] == "." or text[at:] == ".lock"))
            or (char == "{" and at > 0 and text[at - 1] == "@")
            or (char == "-" and at == 0)
        )
        out.append("".join(f"%{byte:02X}" for byte in char.encode()) if escape else char)
    return "".join(out)


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sorts 6.10.0 after 6.9.0: numbers compare as numbers, the rest as text."""
    parts: list[tuple[int, int | str]] = []
    for piece in version.replace("-", ".").replace("+", ".").replace("~", ".").replace("_", ".").split("."):
        parts.append((0, int(piece)) if piece.isdigit() else (1, piece))
    return tuple(parts)
