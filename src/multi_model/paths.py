"""Where config and state live. Stdlib only: the Claude Code hooks import it without the
package's dependencies.

`MULTI_MODEL_HOME` relocates config and data together (tests point it at a temp dir); else
the XDG locations, else `~/.config/multi-model` and `~/.local/share/multi-model`.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # the hooks import this module: no `typing` at run time
if TYPE_CHECKING:
    from collections.abc import Mapping


LAUNCHER = Path(__file__).resolve().parents[2] / "scripts" / "mm"
"""The plugin's launcher in the folder this package runs from (absent from an installed
package): what the plugin's hooks start and pre-approve."""


def home_override(env: Mapping[str, str]) -> Path | None:
    value = env.get("MULTI_MODEL_HOME")
    return Path(value).expanduser() if value else None


def user_config_path(env: Mapping[str, str]) -> Path:
    home = home_override(env)
    if home:
        return home / "config.toml"
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "multi-model" / "config.toml"


def data_dir(env: Mapping[str, str]) -> Path:
    """Where state lives (caches, run directories, review sessions)."""
    home = home_override(env)
    if home:
        return home / "data"
    base = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME", "~")).expanduser() / ".local" / "share"
    )
    return Path(base) / "multi-model"


def question_inbox(env: Mapping[str, str]) -> Path:
    """Where a host writes a question for `mm` with its file tool: always under HOME, where
    the plugin's commands grant that Write, wherever MULTI_MODEL_HOME or XDG_DATA_HOME put
    the data dir (a grant cannot follow an environment variable)."""
    return (
        Path(env.get("HOME", "~")).expanduser() / ".local" / "share" / "multi-model" / "questions"
    )
