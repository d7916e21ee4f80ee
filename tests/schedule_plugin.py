"""pytest plugin: the long scopes first, so that parallel workers finish together.

``make test`` spreads the suite over pytest-xdist workers by scope (``--dist loadscope``: a module, a test class,
a notebook), in collection order (``--no-loadscope-reorder``; xdist's own order puts the scopes with the most
items first, which sends the graded classes, a few long tests each, last, where one of them can keep a worker
busy minutes after the other has run out of work). Here a scope is long when it holds a ``slow`` test or is a
notebook (nbval runs one item per cell), and the long scopes move ahead of the others, each scope kept whole
and in its own order: the many short scopes come last and fill the gaps.
"""


def _scope(item):
    """xdist's loadscope unit of ``item``: its module, or its class."""
    return item.nodeid.rsplit("::", 1)[0]


def _long(item):
    return item.get_closest_marker("slow") is not None or item.nodeid.split("::", 1)[0].endswith(".ipynb")


def pytest_collection_modifyitems(session, config, items):
    long_scopes = {_scope(item) for item in items if _long(item)}
    items.sort(key=lambda item: _scope(item) not in long_scopes)  # stable: file order within each group
