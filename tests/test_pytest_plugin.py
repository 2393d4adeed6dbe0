"""The pytest plugin, used as a user would: tiny test suites run by pytester against the installed entry point."""

from __future__ import annotations

import importlib.metadata
import json
import textwrap

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

SEARCH_FIXTURE = """
endpoint: search
match:
  query:
    equals: pytest plugin
response:
  status: 200
  body:
    id: recorded
    results:
      - {title: Plugin, url: "https://example.com/plugin", snippet: A page., date: null, last_updated: null}
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(source))
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_the_plugin_is_installed_as_a_pytest11_entry_point() -> None:
    entry_points = importlib.metadata.entry_points(group="pytest11")
    assert [(ep.name, ep.value) for ep in entry_points if ep.name == "pplx_mock"] == [
        ("pplx_mock", "mock_server.pytest_plugin")
    ]


def test_sync_and_async_tests_get_a_live_mock_reset_before_each_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx
        import pytest

        def test_sync(perplexity_mock):
            assert perplexity_mock.requests() == []
            body = {"model": "sonar", "messages": [{"role": "user", "content": "Hi"}]}
            url = perplexity_mock.base_url + "/chat/completions"
            answer = httpx.post(url, json=body, headers=perplexity_mock.headers)
            assert answer.status_code == 200
            (entry,) = perplexity_mock.requests(path="/chat/completions", model="sonar", status=200)
            assert entry["synthesized"] is True and entry["fixture"] is None

        @pytest.mark.anyio
        async def test_async_sees_a_clean_journal(perplexity_mock):
            assert perplexity_mock.requests() == []
            async with httpx.AsyncClient(base_url=perplexity_mock.base_url, headers=perplexity_mock.headers) as client:
                answer = await client.post("/search", json={"query": "OpenAI o-series reasoning model benchmarks"})
            assert answer.status_code == 200
            (entry,) = perplexity_mock.requests()
            assert entry["fixture"] == "search/seed-openai-o-series-benchmarks.json"

        def test_keys_by_tier(perplexity_mock):
            assert perplexity_mock.key(tier=0) == perplexity_mock.keys[0]
            assert [k.split("-")[2] for k in perplexity_mock.keys] == [f"tier{n}" for n in range(6)]
            with pytest.raises(ValueError):
                perplexity_mock.key(tier=6)
        """,
    )
    result.assert_outcomes(passed=3)


def test_faults_scenarios_clock_and_the_backoff_assertion(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx
        import pytest

        BODY = {"model": "sonar", "messages": [{"role": "user", "content": "Hi"}]}

        def post(mock, key, **headers):
            auth = {"Authorization": f"Bearer {key}", **headers}
            return httpx.post(mock.base_url + "/chat/completions", json=BODY, headers=auth)

        def test_default_fault(perplexity_mock):
            perplexity_mock.set_fault("status=503")
            assert post(perplexity_mock, perplexity_mock.api_key).status_code == 503
            assert perplexity_mock.requests()[0]["fault"] is not None

        def test_faults_do_not_outlive_their_test(perplexity_mock):
            assert post(perplexity_mock, perplexity_mock.api_key).status_code == 200

        def test_a_client_that_waits_as_told(perplexity_mock):
            key = perplexity_mock.key(tier=0)
            perplexity_mock.set_scenario(key, ["status=429;retry-after-ms=1500"])
            refused = post(perplexity_mock, key)
            assert refused.status_code == 429
            perplexity_mock.advance(int(refused.headers["retry-after-ms"]) / 1000)
            assert post(perplexity_mock, key).status_code == 200
            (retry,) = perplexity_mock.assert_backed_off()
            assert retry["waited_as_told"] is True

        def test_a_client_that_comes_back_early(perplexity_mock):
            key = perplexity_mock.keys[1]
            perplexity_mock.set_scenario(key, {1: "status=429;retry-after-ms=1500"})
            post(perplexity_mock, key)
            post(perplexity_mock, key)
            with pytest.raises(AssertionError, match="too early"):
                perplexity_mock.assert_backed_off()

        def test_no_retry_at_all_is_not_backing_off(perplexity_mock):
            with pytest.raises(AssertionError, match="at least 1 retry"):
                perplexity_mock.assert_backed_off()
        """,
    )
    result.assert_outcomes(passed=5)


def test_the_marker_gives_a_test_its_own_server(pytester: pytest.Pytester) -> None:
    pytester.mkdir("recorded")
    (pytester.path / "recorded" / "plugin.yaml").write_text(SEARCH_FIXTURE, encoding="utf-8")
    result = run(
        pytester,
        """
        import httpx
        import pytest

        def search(mock, query):
            return httpx.post(mock.base_url + "/search", json={"query": query}, headers=mock.headers)

        @pytest.mark.perplexity_mock(fixtures="recorded", seed=3)
        def test_own_fixtures(perplexity_mock, perplexity_mock_server):
            assert perplexity_mock.base_url != perplexity_mock_server.base_url
            assert search(perplexity_mock, "pytest plugin").json()["results"][0]["url"] == "https://example.com/plugin"
            assert perplexity_mock.requests()[0]["fixture"] == "plugin.yaml"

        @pytest.mark.perplexity_mock(tier=0)
        def test_tier_of_the_api_key(perplexity_mock, perplexity_mock_server):
            assert perplexity_mock.base_url == perplexity_mock_server.base_url
            tier = httpx.get(perplexity_mock.base_url + "/_mock/tiers", params={"key": perplexity_mock.api_key})
            assert tier.json()["tier"] == 0

        @pytest.mark.perplexity_mock(time_scale=-1)
        def test_bad_settings(perplexity_mock):
            pass
        """,
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.perplexity_mock: time_scale: Input should be greater than*(got -1)"])


def test_the_in_process_variant(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.anyio
        async def test_asgi(perplexity_mock_asgi):
            async with perplexity_mock_asgi.async_client() as client:
                answer = await client.post("/search", json={"query": "zebra migration"})
            assert answer.status_code == 200
            (entry,) = perplexity_mock_asgi.requests()
            assert entry["synthesized"] is True

        @pytest.mark.perplexity_mock(tier=0)
        def test_sync_helpers(perplexity_mock_asgi):
            perplexity_mock_asgi.set_fault("status=500")
            assert perplexity_mock_asgi.advance(10) > 0
            assert perplexity_mock_asgi.requests() == []
        """,
    )
    result.assert_outcomes(passed=2)


def test_the_report_names_fixtures_used_and_synthesized_requests(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx

        def test_one(perplexity_mock):
            url, headers = perplexity_mock.base_url + "/search", perplexity_mock.headers
            httpx.post(url, json={"query": "OpenAI o-series reasoning model benchmarks"}, headers=headers)
            httpx.post(url, json={"query": "zebra migration"}, headers=headers)
        """,
        "--pplx-mock-report",
        "report.json",
    )
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert report == {
        "requests": 2,
        "fixtures": {
            "search/seed-openai-o-series-benchmarks.json": {"requests": 1, "tests": ["test_user.py::test_one"]}
        },
        "synthesized": [
            {"test": "test_user.py::test_one", "method": "POST", "path": "/search", "model": None, "status": 200}
        ],
    }


def test_the_readme_example_with_the_official_sdk(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from perplexity import Perplexity

        def test_answers(perplexity_mock):
            client = Perplexity(api_key=perplexity_mock.api_key, base_url=perplexity_mock.base_url)
            client.chat.completions.create(model="sonar", messages=[{"role": "user", "content": "Hi"}])
            (entry,) = perplexity_mock.requests(path="/chat/completions", model="sonar", status=200)
            assert entry["synthesized"]

        def test_backs_off(perplexity_mock):
            key = perplexity_mock.key(tier=0)
            perplexity_mock.set_scenario(key, ["status=429;retry-after-ms=200"])
            client = Perplexity(api_key=key, base_url=perplexity_mock.base_url)
            client.chat.completions.create(model="sonar", messages=[{"role": "user", "content": "Hi"}])
            perplexity_mock.assert_backed_off()
        """,
    )
    result.assert_outcomes(passed=2)


def test_under_xdist_each_worker_has_its_own_mock_and_the_report_merges(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    tests = "\n".join(
        f"""
def test_{n}(perplexity_mock):
    httpx.post(perplexity_mock.base_url + "/search", json={{"query": "zebra {n}"}}, headers=perplexity_mock.headers)
    assert len(perplexity_mock.requests()) == 1
"""
        for n in range(6)
    )
    result = run(pytester, "import httpx\n" + tests, "-n", "2", "--pplx-mock-report", "report.json")
    result.assert_outcomes(passed=6)
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert report["requests"] == 6
    assert sorted(entry["test"] for entry in report["synthesized"]) == [f"test_user.py::test_{n}" for n in range(6)]
