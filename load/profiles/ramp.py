"""Ramp: users grow linearly from one to `--users` over the run time, each asking once a second."""

from __future__ import annotations

import math
from typing import ClassVar

from locust import LoadTestShape, task

from load.users import PplxUser


class RampUser(PplxUser):
    @task
    def chat(self) -> None:
        self.ask()


class LinearRamp(LoadTestShape):
    """Reads `--users` and `--run-time`, so the ramp ends when the run does."""

    use_common_options: ClassVar[bool] = True

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        users = int(getattr(options, "num_users", None) or 10)
        run_time = float(getattr(options, "run_time", None) or 60)
        elapsed = self.get_run_time()  # type: ignore[no-untyped-call]
        if elapsed >= run_time:
            return None
        target = max(1, math.ceil(users * min(1.0, (elapsed + 1) / run_time)))
        return target, float(users)
