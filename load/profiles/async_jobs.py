"""Async jobs: each user creates a deep-research job every five seconds, then polls it to the end.

At the mock's realistic time scale a job takes minutes; run the mock with `--time-scale 0.01`
(or 0) to see many complete within a short run."""

from locust import task

from load.users import PplxUser


class JobUser(PplxUser):
    default_rps = 0.2

    @task
    def job(self) -> None:
        super().job()
