"""`contract.client` exports exactly its public names."""

from __future__ import annotations

import contract.client


def test_all_lists_every_public_name_and_only_those() -> None:
    public = {name for name in vars(contract.client) if not name.startswith("_")}
    assert set(contract.client.__all__) == public - {"annotations"}
