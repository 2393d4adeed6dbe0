"""Streaming: each user streams one answer every two seconds; reports TTFT, ITL, TPS and completion."""

from locust import task

from load.users import PplxUser


class StreamingUser(PplxUser):
    default_rps = 0.5

    @task
    def stream(self) -> None:
        super().stream()
