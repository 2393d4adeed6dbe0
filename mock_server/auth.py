"""API keys: which bearer tokens the mock accepts.

By default any key that starts with `pplx-` is valid, the prefix real keys have. A keys file lists
the accepted keys instead, one a line (`#` starts a comment); a second column may name the key's
usage tier (0-5).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.types import Scope

from mock_server.errors import invalid_api_key
from mock_server.request_headers import bearer_token

KEY_PREFIX = "pplx-"


class KeysFileError(Exception):
    """The keys file cannot be used; the message is one line naming the file and line."""


@dataclass(frozen=True)
class KeyStore:
    # None accepts every `pplx-` key; otherwise exactly these keys, mapped to their tier (or None).
    listed: dict[str, int | None] | None = None

    def accepts(self, key: str) -> bool:
        if self.listed is not None:
            return key in self.listed
        return key.startswith(KEY_PREFIX) and len(key) > len(KEY_PREFIX)

    def authenticate(self, scope: Scope) -> str:
        """The caller's key, or the API's 401 when it is missing, malformed or not accepted."""
        token = bearer_token(scope)
        if token is None or not self.accepts(token):
            raise invalid_api_key()
        return token


def load_keys_file(path: Path) -> KeyStore:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KeysFileError(f"keys file {path}: cannot be read ({exc.strerror})") from None
    listed: dict[str, int | None] = {}
    for number, line in enumerate(lines, start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] not in {"0", "1", "2", "3", "4", "5"}):
            raise KeysFileError(f"keys file {path} line {number}: expected `<key> [tier 0-5]`, got {line.strip()!r}")
        listed[words[0]] = int(words[1]) if len(words) == 2 else None
    if not listed:
        raise KeysFileError(f"keys file {path}: lists no keys")
    return KeyStore(listed)
