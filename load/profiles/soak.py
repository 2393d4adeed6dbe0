"""Soak: the application mix at a low rate (one task every four seconds a user) for a long run
(default 10 minutes), to show drift: latency creeping up, errors appearing, streams left open."""

from locust import task

from load.users import PplxUser


class SoakUser(PplxUser):
    default_rps = 0.25

    @task(5)
    def chat(self) -> None:
        self.ask()

    @task(3)
    def stream(self) -> None:
        super().stream()

    @task(2)
    def search(self) -> None:
        super().search()

    @task(1)
    def job(self) -> None:
        super().job(timeout=300.0)
