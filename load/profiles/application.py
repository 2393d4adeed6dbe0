"""Application: a mix of what an app does, by weight: chat 5, stream 3, search 2, async job 1."""

from locust import task

from load.users import PplxUser


class ApplicationUser(PplxUser):
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
        super().job()
