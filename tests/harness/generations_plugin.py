"""pytest plugin: run a test under both INDI generations (``[indi1]`` libindi 1.9.9, ``[indi2]`` 2.2.4.2).

Mark a test (or a module, with ``pytestmark``) ``@pytest.mark.generations``: it is collected once
per generation, with the ids ``indi1`` and ``indi2``, and every indiserver it starts (through
:class:`harness.IndiServer`, directly or through a module's helper) runs that generation.  The
test may also ask for the ``indi_generation`` fixture to know which (a
:class:`harness.generations.Generation`).  A generation that is not installed here skips its
half with the reason (``.ci/setup`` installs both).

Unmarked tests run the generation in ``$INDI_TEST_GENERATION`` (default ``indi1``), so a whole
run can be repeated under the other generation: ``INDI_TEST_GENERATION=indi2 pytest``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import generations

MARKER = "generations"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: run once per INDI generation (ids indi1 = libindi 1.9.9, indi2 = 2.2.4.2)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker(MARKER) is not None and "indi_generation" in metafunc.fixturenames:
        metafunc.parametrize("indi_generation", generations.GENERATIONS, indirect=True,
                             ids=list(generations.GENERATIONS))


@pytest.fixture(autouse=True)
def indi_generation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[generations.Generation]:
    """The INDI generation this test's servers run (parametrised for ``generations``-marked tests)."""
    name = getattr(request, "param", None)
    gen = generations.get(name)
    if name is not None:
        why = gen.unavailable()
        if why is not None:
            pytest.skip(f"INDI generation {name}: {why}")
        monkeypatch.setenv(generations.ENV, name)
    yield gen
