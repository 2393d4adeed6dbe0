"""Runnable examples, one program each: `python examples/<name>.py` against `./scripts/serve`.

A package only so that mypy checks them with the rest of the code.
"""
