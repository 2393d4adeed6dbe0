"""Fresh ids for answers and requests: random version-4 UUIDs, the shape the API's ids have.

`uuid.uuid4()` reads the operating system's randomness on every call, about 2 µs, on every
request of a load test. These ids need to be unique, not secret, so a generator seeded once
from that randomness does.
"""

from __future__ import annotations

import random

_random = random.Random()  # seeded from os.urandom
_VERSION_4 = 4 << 76
_RFC_4122 = 0x8000 << 48
_CLEARED = ~((0xF000 << 64) | (0xC000 << 48))


def new_id() -> str:
    """A random UUID (version 4, RFC 4122 variant) in its 36-character form."""
    digits = "%032x" % (_random.getrandbits(128) & _CLEARED | _VERSION_4 | _RFC_4122)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
