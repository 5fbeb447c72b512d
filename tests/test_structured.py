"""The model-JSON pipeline: which object is extracted, what strict parsing rejects, and how
validate() reports errors (stage order, json paths, sorting, never raising)."""

from __future__ import annotations

import json
import random
import re
import time

import pytest
from pydantic import BaseModel, ConfigDict

from multi_model import structured
from multi_model.structured import NO_JSON, extract_json, strict_loads, validate

OBJ = '{"a": 1}'


# --- extract_json: fenced blocks --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"Here it is:\n```json\n{OBJ}\n```\nThanks.",
        f"```JSON\n{OBJ}\n```",
        f"```\n{OBJ}\n```",
        f"~~~json\n{OBJ}\n~~~",
        f"  ```json\r\n{OBJ}\r\n  ```\r\n",
        f"````json\n{OBJ}\n```\nstill inside\n````",
    ],
)
def test_fenced_json_or_unlabelled_block(text: str) -> None:
    assert extract_json(text) in (OBJ, f"{OBJ}\n```\nstill inside")


def test_a_longer_fence_is_closed_only_by_as_many_backticks() -> None:
    assert extract_json(f"````json\n{OBJ}\n```\n````") == f"{OBJ}\n```"


def test_the_last_fenced_object_wins() -> None:
    text = '```json\n{"a": 1}\n```\nsome prose\n```json\n{"a": 2}\n```\n'
    assert extract_json(text) == '{"a": 2}'


def test_blocks_in_other_languages_or_without_an_object_are_skipped() -> None:
    text = (
        '```json\n{"a": 1}\n```\n```python\n{"a": 2}\n```\n'
        "```json\n[1, 2]\n```\n```\nplain text\n```\n"
    )
    assert extract_json(text) == '{"a": 1}'


def test_a_fenced_object_beats_a_later_bare_one() -> None:
    """Braces in prose after the fenced answer ("a tie {A, B}") must not displace it."""
    assert extract_json('```json\n{"a": 1}\n```\nNote the tie {A, B}.') == '{"a": 1}'


def test_a_broken_fenced_object_is_returned_whole_for_the_parser_to_report() -> None:
    text = '```json\n{"a": 1,\n "b": [1, 2\n```\n```json\n{"a": [\n```'
    assert extract_json(text) == '{"a": ['


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert extract_json('```json\n{"a": 1}\n```\n```json\n{"a": 2}\n') == '{"a": 2}'


def test_inline_triple_backticks_are_not_a_fence() -> None:
    assert extract_json('Use ```{"x": 0}``` like this: {"a": 1}') == '{"a": 1}'


# --- extract_json: bare objects ---------------------------------------------------------------


def test_a_bare_object_after_prose() -> None:
    assert extract_json(f"I ranked them as follows.\n\n{OBJ}\n") == OBJ


def test_the_last_top_level_object_wins_not_a_nested_one() -> None:
    text = 'first {"a": 0} then {"b": {"c": {"d": 1}}} done'
    assert extract_json(text) == '{"b": {"c": {"d": 1}}}'


@pytest.mark.parametrize(
    "obj",
    [
        '{"a": "}"}',
        '{"a": "{"}',
        '{"a": "\\"}"}',
        '{"a": "\\\\", "b": "}{"}',
        '{"k}": {"x": "\\\\\\"{"}}',
    ],
)
def test_braces_and_escaped_quotes_inside_strings_do_not_count(obj: str) -> None:
    json.loads(obj)  # the cases are valid JSON
    assert extract_json(f"Ballot: {obj} -- end") == obj


def test_a_stray_open_brace_before_the_object_is_skipped() -> None:
    assert extract_json('Sets like {a, b are "odd. Here: {"a": 1}') == '{"a": 1}'


def test_a_stray_close_brace_after_the_object_is_ignored() -> None:
    assert extract_json('{"a": 1} bye :-}') == '{"a": 1}'


@pytest.mark.parametrize("text", ["", "no json here", "only { open", "} close {", '"{"'])
def test_none_when_there_is_no_balanced_object(text: str) -> None:
    assert extract_json(text) is None


def _reference_last_object(text: str) -> str | None:
    """The definition, quadratic: scan from each `{`; skip it if its object never closes."""
    token = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)|[{}]', re.DOTALL)
    last, pos = None, 0
    while (start := text.find("{", pos)) != -1:
        depth, end = 0, None
        for m in token.finditer(text, start):
            depth += {"{": 1, "}": -1}.get(m.group(), 0)
            if depth == 0:
                end = m.end()
                break
        last, pos = ((start, end), end) if end else (last, start + 1)
    return text[last[0] : last[1]] if last else None


def test_bare_extraction_matches_the_quadratic_definition() -> None:
    rng = random.Random(4)
    for _ in range(20_000):
        text = "".join(rng.choice('{}"\\a ') for _ in range(rng.randint(0, 30)))
        assert extract_json(text) == _reference_last_object(text), text


@pytest.mark.parametrize(
    "text", ["{" * 200_000, '{"' * 100_000, '{ "a\\" {' * 25_000, ('x { "y' * 40_000) + OBJ]
)
def test_bare_extraction_is_linear_on_brace_heavy_text(text: str) -> None:
    """Stray braces and quotes force a rescan from every later `{`; it must stay one pass."""
    started = time.perf_counter()
    extract_json(text)
    assert time.perf_counter() - started < 2.0


def test_extraction_finds_the_object_in_random_prose() -> None:
    """Prose before may hold stray braces of both kinds; prose after holds no braces (a `{`
    there would come last, and a `}` could close a stray `{` from before around the answer)."""
    rng = random.Random(7)
    for _ in range(300):
        obj = json.dumps(
            {"ranking": ["x"], "note": _noise(rng, "{}\"\\'` \n")}, indent=rng.choice([None, 2])
        )
        before = _noise(rng, "{}'` .,\n") + " {balanced} "
        after = _noise(rng, "'` .,\n")
        fence = rng.choice(["", "```json\n", "```\n"])
        text = f"{before}\n{fence}{obj}\n{'```' if fence else ''}\n{after}"
        assert extract_json(text) == obj


def _noise(rng: random.Random, specials: str) -> str:
    return "".join(rng.choice("abc " + specials) for _ in range(rng.randint(0, 40)))


# --- strict_loads -----------------------------------------------------------------------------


def test_strict_loads_accepts_ordinary_json() -> None:
    assert strict_loads(' {"a": [1, 2.5, -3e2, true, null, "x"]} ') == {
        "a": [1, 2.5, -300.0, True, None, "x"]
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": Infinity}', "Infinity is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": 1e999}', "number 1e999 is out of range"),
        ('{"a": 1, "a": 2}', 'duplicate key "a"'),
        ('{"a": {"b": 1, "b": 1}}', 'duplicate key "b"'),
        ('{"a": [{"\\n": 1, "\\n": 2}]}', 'duplicate key "\\n"'),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_strict_loads_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        strict_loads(text)
    assert str(caught.value) == f"invalid JSON: {reason}"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "a": [\n    "x"\n    "y"\n  ]\n}', 4, 5),  # missing comma
        ('{"a": 1', 1, 8),
        ("{'a': 1}", 1, 2),
    ],
)
def test_strict_loads_syntax_errors_give_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(ValueError, match=rf"^invalid JSON at line {line} column {column}: "):
        strict_loads(text)


def test_trailing_commas_are_syntax_errors() -> None:
    for text in ('{"a": 1,}', '{"a": [1, 2,]}'):
        with pytest.raises(ValueError, match=r"^invalid JSON at line 1 column \d+: "):
            strict_loads(text)


def test_strict_loads_messages_are_one_line() -> None:
    for text in ('{"a\\nb": 1, "a\\nb": 2}', '{\n\n"a": nope}', '{"a": ' + "9" * 5000 + "}"):
        with pytest.raises(ValueError) as caught:
            strict_loads(text)
        assert "\n" not in str(caught.value)


# --- validate ---------------------------------------------------------------------------------


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int


ITEM_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "size"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "size": {"type": "integer", "minimum": 0},
    },
}


def test_a_valid_reply_gives_a_value_and_no_errors() -> None:
    result = validate('Sure:\n```json\n{"name": "x", "size": 3}\n```', ITEM_SCHEMA, Item)
    assert result == structured.Structured(Item(name="x", size=3), [])


def test_each_stage_stops_the_pipeline() -> None:
    calls: list[Item] = []

    def checks(item: Item) -> list[str]:
        calls.append(item)
        return ["$.size: must be even"] if item.size % 2 else []

    assert validate("no json", ITEM_SCHEMA, Item, checks).errors == [NO_JSON]
    assert (
        validate('{"name": "x", "size": 1,}', ITEM_SCHEMA, Item, checks)
        .errors[0]
        .startswith("invalid JSON at line 1 column")
    )
    assert validate('{"name": "", "size": 1}', ITEM_SCHEMA, Item, checks).errors == [
        "$.name: '' should be non-empty"
    ]
    assert calls == []
    assert validate('{"name": "x", "size": 1}', ITEM_SCHEMA, Item, checks) == (
        structured.Structured(None, ["$.size: must be even"])
    )
    assert calls == [Item(name="x", size=1)]


def test_the_model_stage_is_strict_and_catches_what_a_loose_schema_lets_through() -> None:
    result = validate('{"size": "3", "extra": [1]}', {"type": "object"}, Item)
    assert result.value is None
    assert result.errors == [
        "$.extra: Extra inputs are not permitted",
        "$.name: Field required",
        "$.size: Input should be a valid integer",
    ]
    assert validate('{"name": "x", "size": 3.0}', ITEM_SCHEMA, Item).errors == [
        "$.size: Input should be a valid integer"
    ]  # the schema's "integer" allows 3.0


def test_schema_errors_are_all_collected_sorted_and_deterministic() -> None:
    reply = '{"size": -1, "name": 5, "b c": 1, "zz": 2}'
    errors = validate(reply, ITEM_SCHEMA, Item).errors
    assert errors == [
        "$: Additional properties are not allowed ('b c', 'zz' were unexpected)",
        "$.name: 5 is not of type 'string'",
        "$.size: -1 is less than the minimum of 0",
    ]
    assert all(validate(reply, ITEM_SCHEMA, Item).errors == errors for _ in range(5))


def test_json_paths_quote_keys_that_are_not_identifiers_and_sort_indices_numerically() -> None:
    schema = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "integer"}},
    }
    reply = json.dumps({"Response A": [0] * 9 + ["x", "y"], "ok_key": ["z"]})
    assert structured.schema_errors(json.loads(reply), schema) == [
        "$[\"Response A\"][9]: 'x' is not of type 'integer'",
        "$[\"Response A\"][10]: 'y' is not of type 'integer'",
        "$.ok_key[0]: 'z' is not of type 'integer'",
    ]


def test_long_messages_keep_their_head_and_the_rule_at_the_end() -> None:
    schema = {"type": "object", "properties": {"c": {"type": "string", "maxLength": 10}}}
    [error] = structured.schema_errors({"c": "x" * 5000}, schema)
    assert error.startswith("$.c: 'xxxx") and error.endswith("xxx' is too long")
    assert len(error) <= len("$.c: ") + structured.MAX_MESSAGE


def test_validate_never_raises_for_garbage() -> None:
    rng = random.Random(11)
    alphabet = '{}[]":,\\ \n0123456789.eE+-aNInfinity truefalsenull`~json'
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        result = validate(text, ITEM_SCHEMA, Item)
        assert (result.value is None) == bool(result.errors)
        assert all(isinstance(e, str) and "\n" not in e for e in result.errors)
