"""`bulkio.__all__` lists exactly the public names, and each exists."""

import bulkio


def test_all_is_honest() -> None:
    """Every name in __all__ exists; every public top-level object is in __all__."""
    assert all(hasattr(bulkio, name) for name in bulkio.__all__)
    public = {n for n, v in vars(bulkio).items()
              if not n.startswith("_") and not isinstance(v, type(bulkio))}
    assert public == set(bulkio.__all__) - {"__version__"}
