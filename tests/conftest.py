"""Shared fixtures: the built graph once per session (loading and reasoning are expensive)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import kg

HERE = Path(__file__).parent
ROOT = HERE.parent
FIXTURES = HERE / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def reasoning_cache(tmp_path_factory):
    """Closures are cached in a temporary directory, never in the repository's .cache/."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("kg-cache")
        patch.setenv("KG_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def dataset():
    return kg.load()


@pytest.fixture(scope="session")
def article_text() -> str:
    """The article, from $KG_ARTICLE or ../shared/seed/article.txt beside the repository."""
    path = Path(os.environ.get("KG_ARTICLE") or ROOT.parent / "shared" / "seed" / "article.txt")
    if not path.is_file():
        pytest.fail(f"the article text is needed at {path}; set KG_ARTICLE to its path")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def oxigraph_store(dataset):
    """The project's graph in the embedded engine, built once."""
    from kg.graph import version
    from kg.store.oxigraph import OxigraphStore

    return OxigraphStore.from_datasets({"none": dataset}, version=version())


@pytest.fixture
def make_app(oxigraph_store):
    """Build apps on the session's store (evaluation in worker processes); their engines stop after the test."""
    from kg.store.isolation import IsolatedStore
    from kg.web import create_app

    stores = []

    def make(store=None, **config):
        isolated = IsolatedStore(store or oxigraph_store, processes=config.pop("ENGINES", 1))
        stores.append(isolated)
        return create_app({"TESTING": True, "STORE": isolated, **config})

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
