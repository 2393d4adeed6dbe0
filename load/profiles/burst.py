"""Burst: every user sends back to back on usage tier 0 (50 sonar requests a minute), so the run
crosses the tier limit within a second. `PPLX_LOAD_LIMITER=off` shows the server's 429s;
`on` (default) shows the client's pacing holding the rate under the limit instead."""

from locust import task

from load.users import PplxUser


class BurstUser(PplxUser):
    default_tier = 0
    default_rps = 0.0

    @task
    def chat(self) -> None:
        self.ask()
