"""Prompt templates: `<name>.md` package data filled with named `{field}`s by a strict formatter.

Templates carry no comments (every byte is sent on every run), so their contracts live here:

- `rank`: one reviewer's blind-review prompt. Fields: `question` (raw text; the template frames
  it in its own nonce block), `answers` (`anonymize.answer_blocks` in this reviewer's labels),
  `labels` ("Response A, Response B, ..."), `nonce`, `token` (this task's ballot token),
  `example` (`ballot.example_ballot()`: the ballot's shape with `<...>` slots for every value,
  so that a copy of it is never a valid ballot).
- `repair`: the one repair retry. Not sent alone: the caller sends the same rank prompt (same
  labels, nonce and token) followed by this. Fields: `errors` (a Markdown bullet list of the
  validation errors), `labels`, `token`, `example`.
- `synthesize`: the chairman. Fields: `question`, `answers` (blocks in the chairman's labels),
  `aggregate` (a Markdown table by label: place, mean rank, Borda, votes), `critiques` (per
  label, relabelled into the chairman's labels, reviewers as "Reviewer 1..n"), `nonce`. Never
  pass provider or model names in any field.

`{{` and `}}` are literal braces in a template. Values are inserted as they are (never
stripped or re-formatted).
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

_FORMATTER = string.Formatter()


@cache
def _template(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"bad prompt name: {name!r}")
    path = resources.files(__name__).joinpath(f"{name}.md")
    if not path.is_file():
        raise ValueError(f"unknown prompt: {name!r}")
    return path.read_text(encoding="utf-8")


def fields(name: str) -> frozenset[str]:
    """The field names template `name` needs. Raises ValueError for an unknown template or a
    placeholder that is not a plain `{identifier}` (no positions, attributes, specs)."""
    names = set()
    for _, field, spec, conversion in _FORMATTER.parse(_template(name)):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"prompt {name!r}: placeholder {{{field}}} must be a plain name")
        names.add(field)
    return frozenset(names)


def render(name: str, **values: str) -> str:
    """Fill template `name`. Raises KeyError naming missing fields, TypeError naming unused
    ones (a typo) or non-str values, ValueError for an unknown template."""
    needed = fields(name)
    missing = sorted(needed - values.keys())
    if missing:
        raise KeyError(f"prompt {name!r} needs field(s): {', '.join(missing)}")
    unused = sorted(values.keys() - needed)
    if unused:
        raise TypeError(f"prompt {name!r} has no field(s): {', '.join(unused)}")
    bad = sorted(key for key, value in values.items() if not isinstance(value, str))
    if bad:
        raise TypeError(f"prompt {name!r}: field(s) must be str: {', '.join(bad)}")
    return _template(name).format_map(values)
