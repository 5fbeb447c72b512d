"""The files a review never sends: the default deny list (gitignore patterns, matched without
regard to case), where a path really points, and the edit hook's quick check. Stdlib only (the
edit hook imports it); `deny` holds the full check (pathspec), which the reviewer applies again
before anything is sent.

A path is checked twice: by its name in the repository and by its resolved target (a link
named `notes.md` pointing at `.env.local` is `.env.local`). A link inside the repository that
resolves outside it is never read.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re

TYPE_CHECKING = False  # the hooks import this module: no `typing` at run time
if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_DENY: tuple[str, ...] = (
    # env files in every spelling: .env, .env~, .env_backup, .env-prod, .env.local, app.env.bak
    # (the last pattern that matches is the one named: the exact names come after the globs)
    "*.env",
    "*.env[._~-]*",
    ".env",
    ".env[._~-]*",
    ".env[0-9 ,]*",
    "[#].env#",
    ".envrc",
    ".flaskenv",
    "dotenv",
    # SSH, PGP and TLS keys, keystores
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.pem",
    "*.key",
    "*.p8",
    "*.p12",
    "*.pfx",
    "*.ppk",
    "*.crt",
    "*.cer",
    "*.der",
    "*.csr",
    "*.jks",
    "*.keystore",
    "*.truststore",
    "*.bks",
    "*.gpg",
    "*.pgp",
    "*.asc",
    "secring.*",
    ".ssh/",
    ".gnupg/",
    "*.ovpn",
    "*.pem[._~-]*",
    "*.key[._~-]*",
    "private_key*",
    "*firebase-adminsdk*.json",
    # cloud and container credentials
    ".aws/",
    ".azure/",
    "gcloud/",
    "application_default_credentials.json",
    "*service-account*.json",
    "*service_account*.json",
    "*serviceaccount*.json",
    "gcp-sa*.json",
    "*-sa.json",
    "*-sa-key*.json",
    "**/.docker/config.json",
    ".dockercfg",
    "kubeconfig*",
    "*.kubeconfig",
    ".kube/",
    ".boto",
    ".s3cfg",
    ".vault-token",
    # AI CLIs' own logins (this tool's neighbours) and other tools' tokens
    "**/.claude/.credentials.json",
    "**/.codex/auth.json",
    "**/.gemini/oauth_creds.json",
    "**/.qwen/oauth_creds.json",
    "**/.config/gh/hosts.yml",
    "**/.config/hub",
    "rclone.conf",
    "pip.conf",
    ".yarnrc.yml",
    "**/.m2/settings.xml",
    "gradle.properties",
    "wp-config.php",
    ".bash_history",
    ".zsh_history",
    # login files and tokens
    ".netrc",
    "_netrc",
    ".pgpass",
    ".my.cnf",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".terraformrc",
    "terraform.rc",
    "credentials",
    "credentials.*",
    "*-credentials.*",
    "*_credentials.*",
    "*.credentials",
    "secrets",
    "secrets.*",
    "secret.*",
    "*.secret",
    "*.secrets",
    # Terraform state and variables
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    "*.tfvars.json",
    # password stores
    ".password-store/",
    "*.kdbx",
    "*.kdb",
    "*.keychain",
    "*.keychain-db",
    "*.1pux",
    "htpasswd",
    ".htpasswd",
    "*.htpasswd",
)


def resolve(path: str, root: str) -> tuple[str, str | None, bool]:
    """(name, target, leaves) of `path` (relative to `root`, or absolute): its lexical name
    relative to the root, its resolved target's (None when the same), and whether it is inside
    the root but resolves outside it. Names outside the root are absolute paths without the
    leading `/`, so unanchored patterns (`*.pem`, `.ssh/`) still apply to them."""
    top = os.path.abspath(root)
    lexical = os.path.normpath(os.path.join(top, path))
    real_top = os.path.realpath(top)
    real = os.path.realpath(lexical)
    name, inside = _relative(lexical, top)
    target, real_inside = _relative(real, real_top)
    return name, (target if target != name else None), inside and not real_inside


def _relative(path: str, top: str) -> tuple[str, bool]:
    if path == top:
        return ".", True
    if path.startswith(top.rstrip(os.sep) + os.sep):
        return os.path.relpath(path, top).replace(os.sep, "/"), True
    return path.replace(os.sep, "/").lstrip("/"), False


def quick_check(
    name: str, target: str | None, leaves: bool, extra: Iterable[str] = ()
) -> str | None:
    """Why the edit hook keeps a file (`resolve`'s answer for it) out of the queue, or None.
    A superset of `deny`'s answer: it never lets through what the full check denies (it may
    deny a little more)."""
    if leaves:
        return "a link that leaves the project"
    for which, rel in (("", name), (", via its link target", target)):
        pattern = rel and quick_match(rel, extra)
        if pattern:
            return f"on the deny list ({pattern}{which})"
    return None


def quick_match(rel: str, extra: Iterable[str] = ()) -> str | None:
    """A pattern that may match `rel`, case-insensitively: gitignore semantics
    widened to fnmatch (classes and escapes become `?`, `**` and `*` cross `/`, negations
    and the directory-only mark are ignored), so it errs only towards denying."""
    parts = [p for p in rel.lower().split("/") if p not in ("", ".")]
    spans = ["/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]
    names, paths = _combined(tuple(extra))
    if not (any(names.match(p) for p in parts) or any(paths.match(s) for s in spans)):
        return None
    # which one, named as `deny` names it (the last match of the default list, else of the
    # user's): only a denied file gets here
    for pattern in (*reversed(DEFAULT_DENY), *reversed(tuple(extra))):
        glob = _widen(pattern)
        if glob and any(fnmatch.fnmatchcase(c, glob) for c in (spans if "/" in glob else parts)):
            return pattern
    return None


@functools.lru_cache(maxsize=8)
def _combined(extra: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """One expression for the globs without `/` (matched against each path component) and one
    for those with (against each run of components): one compile, not one per pattern, as
    the edit hook runs on every edit."""
    globs = [g for g in map(_widen, (*DEFAULT_DENY, *extra)) if g]
    return (_either(g for g in globs if "/" not in g), _either(g for g in globs if "/" in g))


def _either(globs: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(g) for g in globs) or "(?!)")


def _widen(pattern: str) -> str | None:
    """A glob that matches at least what the gitignore `pattern` matches; None for comments,
    blanks and negations (which can only shrink a match)."""
    glob = pattern.strip().lower()
    if not glob or glob.startswith(("#", "!")):
        return None
    glob = re.sub(r"\\.", "?", glob)
    glob = re.sub(r"\[!?\]?[^\]]*\]", "?", glob)
    for wide, narrow in (("/**/", "*"), ("**/", "*"), ("/**", "/*"), ("**", "*")):
        glob = glob.replace(wide, narrow)
    return glob.strip("/") or None
