"""Model-written JSON through one pipeline: extract -> strict parse -> jsonschema -> pydantic ->
checks.

`validate` never raises for bad model output: every failure comes back as one-line error strings
(deterministic, so a caller can quote them in its one repair retry and tests can snapshot them),
and a value comes back only when every stage passed. Nothing here repairs or guesses: no
trailing-comma fixes, no "closest label", no falling back to an earlier object when the chosen
one is broken.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
# a brace stack level of `_object_ends`: the offsets of the `{`s it holds, nested as tracks merge
_Level: TypeAlias = "list[int | _Level]"

NO_JSON = "no JSON object found in the reply"
MAX_MESSAGE = 240  # longer messages keep their head and tail (jsonschema quotes whole values)

_JSON_WS = " \t\r\n"
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*")
_SCAN_CHAR = re.compile(r'[{}"\\]')
_BRACE = re.compile(r"\{")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Structured(Generic[T]):
    """A pipeline result: `value` is set only when `errors` is empty."""

    value: T | None
    errors: list[str]


# --- extract ---------------------------------------------------------------------------------


def extract_json(text: str) -> str | None:
    """The JSON object the model meant as its answer, as text; None when there is none.

    The last fenced code block labelled `json` (any case) or unlabelled whose content starts with
    `{` (returned whole, so a broken object still reaches the parser and gets a positioned
    error), else the last balanced top-level `{...}` anywhere in the text. Which object is "the
    answer" is decided here by position only; keeping a quoted fake from coming last is the
    prompt's job (nonce-framed data), not the parser's.
    """
    fenced = [
        body
        for label, body in _fenced_blocks(text)
        if label in ("", "json") and body.strip(_JSON_WS).startswith("{")
    ]
    if fenced:
        return fenced[-1].strip(_JSON_WS)
    return _last_bare_object(text)


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(lower-cased first word of the info string, content) of each fenced block, in order.

    Fences are ``` or ~~~ (3 or more, any indentation); a block closes at a line of at least as
    many of the same character; an unclosed block runs to the end of the text (CommonMark).
    """
    lines, blocks, i = text.split("\n"), [], 0
    while i < len(lines):
        opening = _FENCE.fullmatch(lines[i].rstrip("\r"))
        i += 1
        if not opening:
            continue
        fence, label = opening.group(1), opening.group(2).lower()
        closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        start = i
        while i < len(lines) and not closing.fullmatch(lines[i].rstrip("\r")):
            i += 1
        blocks.append((label, "\n".join(lines[start:i])))
        i += 1
    return blocks


def _last_bare_object(text: str) -> str | None:
    """The last balanced top-level `{...}` (see `_bare_objects`)."""
    spans = _bare_objects(text)
    return text[spans[-1][0] : spans[-1][1]] if spans else None


def _bare_objects(text: str) -> list[tuple[int, int]]:
    """(start, end) of each balanced top-level `{...}`, in order: scanning left to right, a `{`
    whose object never closes is skipped and the scan resumes just after it. Braces inside JSON
    strings do not count; quotes count only inside a candidate object, so prose around it is
    ignored."""
    ends = _object_ends(text)
    spans, pos = [], 0
    while (start := text.find("{", pos)) != -1:
        end = ends.get(start)
        if end is None:
            pos = start + 1
        else:
            spans.append((start, end))
            pos = end
    return spans


def _object_ends(text: str) -> dict[int, int]:
    """Offset of each `{` -> end (exclusive) of the object a fresh scan from it reads; absent when
    that object never closes.

    A scan tracks a string state (out, in, esc: just after a backslash in a string) and a brace
    stack. Scans in the same state at the same point read the same tokens from then on, so they
    run merged as one track (at most three at a time) whose stack levels pool their braces: one
    pass, linear even when stray `{` and quotes force a fresh scan from every later `{`.
    """
    ends: dict[int, int] = {}
    # state -> stack of levels; a level nests the braces it pools
    tracks: dict[str, list[_Level]] = {}
    pos, esc_at = 0, -2
    while token := _SCAN_CHAR.search(text, pos) if tracks else _BRACE.search(text, pos):
        at, char = token.start(), token.group()
        moved: dict[str, list[_Level]] = {}
        for state, levels in tracks.items():
            state = _next_state(state, char, at - esc_at == 1)
            if state == "out" and char == "}":
                _close(levels.pop(), at + 1, ends)
            if levels:
                moved[state] = _merge(moved[state], levels) if state in moved else levels
        if char == "{":
            moved.setdefault("out", []).append([at])
        if char == "\\":
            esc_at = at
        tracks, pos = moved, at + 1
    return ends


def _next_state(state: str, char: str, escaped: bool) -> str:
    if state == "esc":
        if escaped:
            return "in"
        state = "in"
    if char == '"':
        return "in" if state == "out" else "out"
    return "esc" if char == "\\" and state == "in" else state


def _merge(a: list[_Level], b: list[_Level]) -> list[_Level]:
    """Two tracks' stacks aligned at the top, as they will be popped: a level nests both."""
    if len(a) < len(b):
        a, b = b, a
    for i in range(1, len(b) + 1):
        a[-i] = [a[-i], b[-i]]
    return a


def _close(level: _Level, end: int, ends: dict[int, int]) -> None:
    todo = [level]
    while todo:
        for item in todo.pop():
            if isinstance(item, list):
                todo.append(item)
            else:
                ends[item] = end


# --- parse -----------------------------------------------------------------------------------


def strict_loads(text: str) -> object:
    """`json.loads` that also rejects NaN, Infinity, -Infinity, numbers that overflow to infinity
    and duplicate object keys. Raises ValueError with a one-line message (line and column for
    syntax errors, which count from the start of `text`)."""
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # from the hooks below, or int() on a huge number
        raise ValueError(f"invalid JSON: {_one_line(str(exc))}") from None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"number {_clip(literal)} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {_clip(json.dumps(key))}")
        seen[key] = value
    return seen


# --- validate --------------------------------------------------------------------------------


def validate(
    text: str,
    schema: Mapping[str, object],
    model: type[T],
    checks: Callable[[T], list[str]] | None = None,
) -> Structured[T]:
    """Run `text` through extract -> strict parse -> `schema` (Draft 2020-12, every error) ->
    `model` (strict, JSON mode) -> `checks`, stopping at the first stage that fails. Never raises
    for bad model output; `schema` and `checks` are the caller's and may raise for programming
    errors. Schema and model errors read "<json path>: <message>", sorted and deduplicated."""
    extracted = extract_json(text)
    if extracted is None:
        return Structured(None, [NO_JSON])
    return _validate_object(extracted, schema, model, checks)


def _validate_object(
    extracted: str,
    schema: Mapping[str, object],
    model: type[T],
    checks: Callable[[T], list[str]] | None,
) -> Structured[T]:
    try:
        data = strict_loads(extracted)
    except ValueError as exc:
        return Structured(None, [str(exc)])
    errors = schema_errors(data, schema)
    if errors:
        return Structured(None, errors)
    try:  # strict JSON mode: no "3" -> 3 or 3.0 -> 3; enums and dates still read from strings
        value = model.model_validate_json(extracted, strict=True)
    except ValidationError as exc:
        return Structured(
            None, _sorted((tuple(e["loc"]), e["msg"]) for e in exc.errors(include_url=False))
        )
    errors = list(checks(value)) if checks else []
    return Structured(None, errors) if errors else Structured(value, [])


def validate_keyed(
    text: str,
    key: str,
    value: str,
    schema: Mapping[str, object],
    model: type[T],
    checks: Callable[[T], list[str]] | None = None,
) -> Structured[T]:
    """`validate` on the one top-level JSON object in `text` whose `key` is `value` (a secret
    the prompt gave: a copy of some other object, quoted anywhere, cannot carry it), whatever
    its position. None: `validate` on the whole text, whose errors say what is wrong (the
    caller's `schema` must require `key` to be `value`). Several: one error."""
    matches = [
        text[start:end]
        for start, end in _bare_objects(text)
        if _carries(text[start:end], key, value)
    ]
    if len(matches) > 1:
        return Structured(
            None, [f"{len(matches)} JSON objects carry this task's {key}; reply with exactly one"]
        )
    if matches:
        return _validate_object(matches[0], schema, model, checks)
    return validate(text, schema, model, checks)


def _carries(candidate: str, key: str, value: str) -> bool:
    try:
        data = strict_loads(candidate)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get(key) == value


def schema_errors(data: object, schema: Mapping[str, object]) -> list[str]:
    """Every Draft 2020-12 violation of `schema` by `data` as "<json path>: <message>", sorted."""
    try:
        found = [
            (tuple(e.absolute_path), e.message)
            for e in Draft202012Validator(schema).iter_errors(data)
        ]
    except RecursionError:
        return ["$: nested too deeply to validate"]
    return _sorted(found)


def json_path(parts: Sequence[str | int]) -> str:
    """`$`, `.key` for identifier keys, `["any key"]` otherwise, `[i]` for array items."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
    return path


def _sorted(errors: Iterable[tuple[tuple[str | int, ...], str]]) -> list[str]:
    """Sorted by path (as parts, so `$` comes first and [10] after [9]), then message."""
    keyed = {
        (tuple((isinstance(p, str), p) for p in loc), _clip(_one_line(msg))): loc
        for loc, msg in errors
    }
    return [f"{json_path(keyed[key])}: {key[1]}" for key in sorted(keyed)]


def _one_line(message: str) -> str:
    return " ".join(message.split("\n")).replace("\r", " ")


def _clip(message: str) -> str:
    """At most MAX_MESSAGE characters, keeping the head and the tail, which names the rule."""
    if len(message) <= MAX_MESSAGE:
        return message
    head = MAX_MESSAGE * 2 // 3
    return f"{message[:head]} ... {message[-(MAX_MESSAGE - head - 5) :]}"
