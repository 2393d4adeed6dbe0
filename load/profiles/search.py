"""Search: each user sends two Search API queries a second (the limit is 50 a second on every tier)."""

from locust import task

from load.users import PplxUser


class SearchUser(PplxUser):
    default_rps = 2.0

    @task
    def search(self) -> None:
        super().search()
