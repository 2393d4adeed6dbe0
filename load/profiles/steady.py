"""Steady rate: each user asks one non-streamed question a second (`PPLX_LOAD_RPS`)."""

from locust import task

from load.users import PplxUser


class SteadyUser(PplxUser):
    @task
    def chat(self) -> None:
        self.ask()
