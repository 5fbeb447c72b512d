"""Hook payloads turned into queue entries (review/entries.py)."""

from __future__ import annotations

from multi_model.review.entries import entry_from_payload


def payload(tool: str, args: dict, response: dict | None = None) -> dict:
    return {
        "session_id": "s",
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_input": args,
        "tool_response": response or {},
        "tool_use_id": "toolu_1",
    }


def test_notebook_edit_and_edit_without_patch() -> None:
    cell = entry_from_payload(
        payload(
            "NotebookEdit",
            {
                "notebook_path": "/p/nb.ipynb",
                "cell_id": "c3",
                "new_source": "x = 1",
                "edit_mode": "replace",
            },
        ),
        "/p",
    )
    assert (cell["file"], cell["kind"], cell["text"]) == (
        "nb.ipynb",
        "cell",
        "notebook cell c3 (replace):\nx = 1",
    )
    edit = entry_from_payload(
        payload("Edit", {"file_path": "/p/a.py", "old_string": "a\nb", "new_string": "c"}), "/p"
    )
    assert edit["text"] == "-a\n-b\n+c"


def test_oversize_binary_denied_and_outside_the_project() -> None:
    big = entry_from_payload(
        payload("Write", {"file_path": "/p/big.txt", "content": "x" * 100_001}), "/p"
    )
    assert (big["kind"], big["note"], "text" in big) == (
        "skipped",
        "too large (100001 bytes)",
        False,
    )
    binary = entry_from_payload(payload("Write", {"file_path": "/p/b", "content": "a\x00"}), "/p")
    assert binary["note"] == "binary"
    denied = entry_from_payload(
        payload("Write", {"file_path": "/p/data/people.csv", "content": "ann"}), "/p", ("data/*",)
    )
    assert (denied["kind"], denied["note"], "text" in denied) == (
        "denied",
        "on the deny list (data/*)",
        False,
    )
    outside = entry_from_payload(
        payload("Write", {"file_path": "/etc/x.conf", "content": "y"}), "/p"
    )
    assert outside["file"] == "/etc/x.conf"
    assert entry_from_payload(payload("Write", {}), "/p") is None
