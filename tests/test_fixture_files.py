"""Every file in fixtures/ validates against the contract models, checked here explicitly.

The mock validates fixtures when it loads them; this test does not rely on that: it finds every
file itself, makes sure the loaders account for each one, and validates each answer against the
contract model for its endpoint and status (`ChatCompletion`, `SearchResponse`, `ErrorResponse`),
every recorded stream event included, and each corpus page as the `SearchPage` it is served as.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from contract.schemas import ChatCompletion, ErrorResponse, SearchResponse
from contract.schemas.search import SearchPage
from mock_server.corpus import load_corpus
from mock_server.fixtures import CORPUS_DIRECTORY, Fixture, load_fixtures
from mock_server.search_engine import Hit
from mock_server.settings import bundled_fixtures_dir

FIXTURES = bundled_fixtures_dir()
MODELS: dict[str, type[BaseModel]] = {"chat.completions": ChatCompletion, "search": SearchResponse}
STORE = load_fixtures(FIXTURES)


def every_file(under: Path) -> list[Path]:
    return sorted(path for path in under.rglob("*") if path.is_file() and not path.name.startswith("."))


def test_the_loaders_account_for_every_file() -> None:
    corpus_files = every_file(FIXTURES / CORPUS_DIRECTORY)
    fixture_files = [path for path in every_file(FIXTURES) if path not in corpus_files]
    assert sorted(fixture.path for fixture in STORE.fixtures) == fixture_files
    assert corpus_files and all(path.suffix in (".yaml", ".yml", ".json") for path in corpus_files)
    assert {fixture.spec.endpoint for fixture in STORE.fixtures} == set(MODELS)


@pytest.mark.parametrize("fixture", STORE.fixtures, ids=lambda fixture: fixture.path.relative_to(FIXTURES).as_posix())
def test_every_fixture_answer_validates_against_the_contract_models(fixture: Fixture) -> None:
    response = fixture.spec.response
    model = MODELS[fixture.spec.endpoint] if response.status < 400 else ErrorResponse
    assert response.body is not None or response.stream, "a fixture answers with a body, a stream, or both"
    if response.body is not None:
        model.model_validate(response.body)
    events = [event.data for event in response.stream or ()]
    for data in events:
        if isinstance(data, dict):
            model.model_validate(data)
        else:
            assert data == "[DONE]", data
    if events:
        assert events[-1] == "[DONE]" and "[DONE]" not in events[:-1]


def test_every_corpus_page_is_a_valid_search_page() -> None:
    corpus = load_corpus(FIXTURES)
    assert len(corpus) >= 50
    for page in corpus.pages:
        document = page.document
        hit = Hit(document.title, document.url, document.date, document.last_updated, document.content)
        SearchPage.model_validate(hit.result(""))
