"""`bulkio.__all__` lists exactly the public names, and each exists."""

import bulkio


def test_all_is_honest() -> None:
    """Every name in __all__ exists; every public top-level object is in __all__."""
    assert all(hasattr(bulkio, name) for name in bulkio.__all__)
    public = {n for n in dir(bulkio)
              if not n.startswith("_") and not isinstance(getattr(bulkio, n), type(bulkio))}
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


def test_the_lazy_tables_match_what_type_checkers_read() -> None:
    """bulkio and bulkio.api import their names on first use (bulkio.lazy); type checkers read
    their `if TYPE_CHECKING:` imports. Both name the same modules and names, and each name
    resolves to the object its module defines."""
    import ast
    import importlib
    from pathlib import Path

    for package in ("bulkio", "bulkio.api"):
        module = importlib.import_module(package)
        tree = ast.parse(Path(str(module.__file__)).read_text())
        checked: dict[str, set[str]] = {}
        lazy: dict[str, set[str]] = {}
        for node in tree.body:
            if isinstance(node, ast.If):  # if TYPE_CHECKING:
                for imp in node.body:
                    assert isinstance(imp, ast.ImportFrom)
                    key = "." * imp.level + (imp.module or "")
                    checked.setdefault(key, set()).update(a.name for a in imp.names)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):  # lazy_names
                table = ast.literal_eval(node.value.args[1])
                lazy = {k: set(v) for k, v in table.items()}
        assert lazy and lazy == checked, package
        for where, names in lazy.items():
            source = importlib.import_module(where, package)
            for name in names:
                assert getattr(module, name) is getattr(source, name)
        assert set(module.__all__) - {"__version__"} == set().union(*lazy.values())
