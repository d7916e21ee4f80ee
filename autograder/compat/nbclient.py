"""Overrides of nbclient 0.11 internals used by the grader's executor (:mod:`autograder.execution.execute`).

- ``NotebookClient._get_timeout(cell)``: the timeout of one cell; nbclient calls it when a cell
  starts and while it waits for the reply. :class:`TimeoutHooks` routes it to ``cell_timeout``.
- ``NotebookClient._async_handle_timeout(timeout, cell)``: what happens when a cell runs out of time
  (interrupt, or raise ``CellTimeoutError``); :class:`TimeoutHooks` calls ``on_cell_timeout`` first.
- ``NotebookClient._cleanup_kernel``: registered with ``atexit`` for each kernel nbclient starts;
  :func:`forget_kernel` unregisters it once the grader has shut the kernel down itself.
"""

import atexit

from autograder.compat import require

PINNED = "0.11"
require("nbclient", PINNED)


class TimeoutHooks:
    """Mixin for a ``NotebookClient``: public names for its private timeout hooks."""

    def cell_timeout(self, cell):
        """Seconds the cell may run (default: nbclient's own choice)."""
        return super()._get_timeout(cell)

    def on_cell_timeout(self, cell):
        """Called when ``cell`` ran out of time, before nbclient interrupts it."""

    def _get_timeout(self, cell):
        return self.cell_timeout(cell)

    async def _async_handle_timeout(self, timeout, cell=None):
        self.on_cell_timeout(cell)
        return await super()._async_handle_timeout(timeout, cell)


def forget_kernel(client):
    """nbclient's exit-time safety net for ``client``'s kernel is not needed: the kernel is gone already."""
    atexit.unregister(client._cleanup_kernel)
