"""`bulkio.__all__` lists exactly the public names, and each exists."""

import bulkio


def test_all_is_honest() -> None:
    """Every name in __all__ exists; every public top-level object is in __all__."""
    assert all(hasattr(bulkio, name) for name in bulkio.__all__)
    public = {n for n, v in vars(bulkio).items()
              if not n.startswith("_") and not isinstance(v, type(bulkio))}
    assert public == set(bulkio.__all__) - {"__version__"}


def test_the_old_client_path_still_works_and_says_it_moved() -> None:
    """`bulkio.client` (before 0.2) re-exports the client for one release, with a warning."""
    import importlib
    import sys

    import pytest

    sys.modules.pop("bulkio.client", None)
    with pytest.warns(DeprecationWarning, match="bulkio.leadgenius.client"):
        old = importlib.import_module("bulkio.client")
    assert old.LeadGeniusClient is bulkio.LeadGeniusClient
    assert old.open_client is bulkio.open_client
