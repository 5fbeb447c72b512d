"""The deny list, attacked: secret file names in every case and spelling, links to denied files
and out of the repository, renames and copies of a denied file, in both `mm review` modes
(driven in-process, the reviewer a fake CLI whose received argv and stdin are checked) and in
the edit hooks' path (the hook's queue entry, the reviewer's batch). Every secret file holds a
marker that must never reach a reviewer."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from multi_model.review import denylist, entries
from multi_model.review.deny import DenyList
from multi_model.review.watch import build_change
from tests.conftest import FakeCLIs, run_mm

Capsys = pytest.CaptureFixture[str]

SECRET_NAMES = (
    ".env",
    ".ENV",
    ".Env",
    ".env~",
    ".env_backup",
    ".env-prod",
    ".env.local",
    "app.env.bak",
    "prod.env",
    "config/.env.production",
    "id_rsa",
    "ID_RSA",
    "keys/id_ed25519",
    "server.pem",
    "server.PEM",
    "tls.key",
    "TLS.KEY",
    "cert.p12",
    "cert.pfx",
    "store.jks",
    "app.keystore",
    "private.gpg",
    "secret-key.asc",
    "home/.ssh/config",
    "home/.gnupg/pubring.kbx",
    "home/.aws/credentials",
    "home/.config/gcloud/credentials.db",
    "gcp-sa.json",
    "deploy/my-service-account.json",
    "home/.azure/accessTokens.json",
    ".docker/config.json",
    "home/.docker/config.json",
    "kubeconfig",
    "KUBECONFIG",
    "home/.kube/config",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    "credentials.yml",
    "CREDENTIALS.JSON",
    "Credentials.yaml",
    "secrets.yaml",
    "SECRETS.YAML",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    "terraform.tfvars",
    "prod.auto.tfvars",
    ".password-store/github.gpg",
    "vault.kdbx",
    ".htpasswd",
    "htpasswd",
    ".env1",
    ".env copy",
    ".env 2",
    "#.env#",
    ".env,v",
    "dotenv",
    "home/.claude/.credentials.json",
    ".codex/auth.json",
    "home/.gemini/oauth_creds.json",
    "home/.config/gh/hosts.yml",
    "pip.conf",
    ".yarnrc.yml",
    "home/.m2/settings.xml",
    "gradle.properties",
    "wp-config.php",
    ".bash_history",
    "key.pem.bak",
    "server.key~",
    "private_key.txt",
    "app-firebase-adminsdk-x1.json",
)
SAFE_NAMES = (
    "src/env.py",
    "environment.ts",
    "docs/keys.md",
    "token_utils.py",
    "README.md",
    "src/secret_sauce_test.py",
    "kube/deployment.yaml",
)
MARK = "SECRET-MARKER"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "app.py", "def f():\n    return 1\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def reviewer(fake_clis: FakeCLIs, monkeypatch: pytest.MonkeyPatch) -> FakeCLIs:
    """A fake codex on PATH that logs the argv and stdin of every call."""
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    return fake_clis


def seen(reviewer: FakeCLIs) -> str:
    """Everything the reviewer's model calls received (argv and stdin)."""
    return "\n".join(
        json.dumps([c["argv"], c["stdin"]])
        for c in reviewer.calls("codex")
        if c["argv"] != ["--version"]
    )


def review(capsys: Capsys, *argv: str) -> str:
    code, out, err = run_mm(capsys, "review", "--models", "codex", *argv)
    assert code in (0, 5), err  # 5: the fake's answer holds no findings JSON
    return out


def marked(name: str) -> str:
    return f"{MARK} of {name}\n"


# --- names in every case and spelling ---------------------------------------------------------


def test_named_files_mode_sends_no_secret_file_in_any_case(
    repo: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    for name in (*SECRET_NAMES, *SAFE_NAMES):
        write(repo, name, marked(name) if name in SECRET_NAMES else f"safe {name}\n")
    out = review(capsys, *SECRET_NAMES, *SAFE_NAMES)
    received = seen(reviewer)
    assert MARK not in received
    assert all(f"safe {name}" in received for name in SAFE_NAMES)
    assert all(f"{name}: on the deny list" in out for name in SECRET_NAMES)


def test_diff_mode_sends_no_secret_file_in_any_case(
    repo: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    write(repo, "app.py", "def f():\n    return 2\n")
    for name in SECRET_NAMES:
        write(repo, name, marked(name))
    out = review(capsys)
    assert MARK not in seen(reviewer) and "return 2" in seen(reviewer)
    assert all(f"{name}: on the deny list" in out for name in SECRET_NAMES)


@pytest.mark.parametrize("name", [*SECRET_NAMES, *SAFE_NAMES])
def test_the_hooks_quick_check_never_lets_through_what_the_full_check_denies(name: str) -> None:
    for variant in (name, name.upper(), f"deep/dir/{name}"):
        full = DenyList().match(variant)
        assert (full is not None) == (name in SECRET_NAMES)
        assert full is None or denylist.quick_match(variant) is not None


def test_quick_check_is_a_superset_for_user_patterns_too() -> None:
    patterns = [
        "/anchored.txt",
        "data/**/dump.sql",
        "reports/",
        "[Cc]ustomers.csv",
        "*.s[qQ]l",
        "notes/*",
        "a\\*b",
        "**/private/**",
        "x?y.cfg",
        "!keep.txt",
    ]
    rng = random.Random(14)
    parts = [
        "data",
        "x",
        "private",
        "reports",
        "notes",
        "anchored.txt",
        "dump.sql",
        "Customers.csv",
        "a*b",
        "xzy.cfg",
        "keep.txt",
        "deep",
        "q.SQL",
    ]
    rules = DenyList(patterns)
    paths = {"/".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(3000)}
    denied = [p for p in paths if rules.match(p)]
    assert len(denied) > 500
    missed = [p for p in denied if denylist.quick_match(p, patterns) is None]
    assert missed == []


# --- links ------------------------------------------------------------------------------------


@pytest.fixture
def links(repo: Path, tmp_path: Path) -> Path:
    """notes.md -> .env.local; outside.md -> a file outside the repository; conf -> a folder
    outside it; docs/readme.txt -> keys/server.PEM (inside, denied)."""
    write(repo, ".env.local", marked(".env.local"))
    write(tmp_path, "elsewhere/plain.txt", marked("outside"))
    write(repo, "keys/server.PEM", marked("server.PEM"))
    (repo / "notes.md").symlink_to(".env.local")
    (repo / "outside.md").symlink_to(tmp_path / "elsewhere" / "plain.txt")
    (repo / "conf").symlink_to(tmp_path / "elsewhere")
    (repo / "docs").mkdir()
    (repo / "docs" / "readme.txt").symlink_to("../keys/server.PEM")
    write(repo, "ok.py", "print('ok')\n")
    return repo


LINKS = ("notes.md", "outside.md", "conf/plain.txt", "docs/readme.txt")


def test_named_files_mode_never_follows_a_link_to_a_secret(
    links: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    out = review(capsys, *LINKS, "ok.py")
    assert MARK not in seen(reviewer) and "print('ok')" in seen(reviewer)
    assert "notes.md: on the deny list (.env[._~-]*, via its link target)" in out
    assert "outside.md: a link that leaves the repository (never read)" in out
    assert "conf/plain.txt: a link that leaves the repository (never read)" in out
    assert "docs/readme.txt: on the deny list (*.pem, via its link target)" in out


def test_diff_mode_never_follows_a_link_to_a_secret(
    links: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    out = review(capsys)
    assert MARK not in seen(reviewer) and "print('ok')" in seen(reviewer)
    for name in ("notes.md", "outside.md", "conf", "docs/readme.txt"):
        assert f"{name}: " in out


# --- renames and copies -----------------------------------------------------------------------


def commit_env(repo: Path) -> None:
    write(repo, ".env", "".join(f"LINE_{i}={MARK}-{i}\n" for i in range(12)))
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-qm", "env")


def test_a_renamed_env_file_sends_none_of_its_old_lines(
    repo: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    commit_env(repo)
    git(repo, "mv", ".env", "notes.md")
    with open(repo / "notes.md", "a") as f:
        f.write("one more line\n")
    write(repo, "app.py", "def f():\n    return 3\n")
    out = review(capsys)
    assert MARK not in seen(reviewer) and "return 3" in seen(reviewer)
    assert "notes.md: renamed or copied from .env, on the deny list (.env)" in out


def test_a_copied_env_file_sends_none_of_its_lines(
    repo: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    commit_env(repo)
    (repo / "copy.txt").write_text((repo / ".env").read_text() + "one more line\n")
    git(repo, "add", "copy.txt")
    write(repo, "app.py", "def f():\n    return 4\n")
    out = review(capsys)
    assert MARK not in seen(reviewer) and "return 4" in seen(reviewer)
    assert "copy.txt: renamed or copied from .env" in out


def test_a_secret_renamed_to_an_odd_name_is_still_parsed(
    repo: Path, reviewer: FakeCLIs, capsys: Capsys
) -> None:
    commit_env(repo)
    odd = 'we"ird\tname .md'
    git(repo, "mv", ".env", odd)
    out = review(capsys)
    assert MARK not in seen(reviewer)
    assert "renamed or copied from .env" in out


# --- the edit hooks ---------------------------------------------------------------------------


def payload(path: Path | str, content: str) -> dict:
    return {
        "tool_name": "Write",
        "tool_input": {"file_path": str(path), "content": content},
        "tool_response": {},
    }


def test_the_hook_stores_no_content_of_a_secret_file_in_any_case(tmp_path: Path) -> None:
    for name in SECRET_NAMES:
        entry = entries.entry_from_payload(payload(tmp_path / name, MARK), str(tmp_path))
        assert entry is not None and entry["kind"] == "denied", name
        assert MARK not in json.dumps(entry)


def test_the_hook_checks_a_links_target(links: Path) -> None:
    for name in LINKS:
        entry = entries.entry_from_payload(payload(links / name, MARK), str(links))
        assert entry is not None and entry["kind"] == "denied", name
        assert MARK not in json.dumps(entry)
    assert "a link that leaves the project" in json.dumps(
        entries.entry_from_payload(payload(links / "outside.md", MARK), str(links))
    )


def test_the_reviewers_batch_applies_the_full_check_again(links: Path) -> None:
    """Entries that got past a hook (an older hook, a link made after the edit, a case the
    quick check would miss) are held back by the reviewer before anything is sent."""
    edits = [
        {"file": name, "tool": "Write", "kind": "content", "text": MARK}
        for name in (".ENV", "SECRETS.YAML", "notes.md", "docs/readme.txt")
    ]
    edits.append(
        {
            "file": "renamed.md",
            "target": ".env.local",
            "tool": "Write",
            "kind": "content",
            "text": MARK,
        }
    )
    edits.append({"file": "ok.py", "tool": "Write", "kind": "content", "text": "fine"})
    change = build_change(edits, [], str(links))
    assert list(change.parts) == ["ok.py"]
    assert MARK not in json.dumps(change.parts)
    assert len(change.skipped) == 5


def test_an_edit_then_a_denied_record_of_the_same_file_sends_neither(tmp_path: Path) -> None:
    edits = [
        {"file": "notes.md", "tool": "Write", "kind": "content", "text": MARK},
        {
            "file": "notes.md",
            "tool": "Write",
            "kind": "denied",
            "note": "on the deny list (.env, via its link target)",
        },
    ]
    assert build_change(edits, [], str(tmp_path)).parts == {}


# --- mm review --explain-deny -----------------------------------------------------------------


def test_explain_deny_names_the_pattern_its_list_and_the_link_target(
    links: Path, capsys: Capsys
) -> None:
    code, out, _ = run_mm(capsys, "review", "--explain-deny", "notes.md")
    assert code == 0
    assert out == (
        "notes.md: denied: its link target `.env.local` matches `.env[._~-]*` "
        "(default list; checked `notes.md` and its link target `.env.local`)\n"
    )
    code, out, _ = run_mm(capsys, "review", "--explain-deny", "ok.py", "--deny", "OK.*")
    assert (code, out) == (
        0,
        "ok.py: denied: `ok.py` matches `OK.*` (your list; checked `ok.py`)\n",
    )
    code, out, _ = run_mm(capsys, "review", "--explain-deny", "ok.py")
    assert (code, out) == (0, "ok.py: not denied (checked `ok.py`)\n")
    code, out, _ = run_mm(capsys, "review", "--explain-deny", "outside.md")
    assert code == 0 and "outside.md: denied: a link that leaves the repository" in out


def test_explain_deny_is_in_the_help_and_a_bad_pattern_is_one_line(capsys: Capsys) -> None:
    code, out, _ = run_mm(capsys, "review", "--help")
    assert code == 0 and "--explain-deny PATH" in out
    code, _, err = run_mm(capsys, "review", "--explain-deny", "x", "--deny", "\\")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "not a gitignore pattern" in err


def test_user_patterns_extend_but_never_shrink_the_defaults() -> None:
    rules = DenyList(["!.env", "!*.pem", "fixtures/customers/"])
    assert rules.match(".env") == (".env", "default list")
    assert rules.match("a/server.pem") == ("*.pem", "default list")
    assert rules.match("Fixtures/Customers/ann.csv") == ("fixtures/customers/", "your list")
