"""Raw: the burst load through plain httpx (no pacing, no retries), the baseline for `burst`."""

from locust import task

from load.users import RawHttpxUser


class RawUser(RawHttpxUser):
    default_tier = 0
    default_rps = 0.0

    @task
    def chat(self) -> None:
        self.ask()
