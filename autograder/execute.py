"""Run one sanitized notebook in its sandboxed kernel, cell by cell, and record what happened.

Built on nbgrader's ``Execute`` preprocessor (its timeout error output, its handling of an
error reply without an error output), with what a hostile or broken notebook needs on top:

- a cell counts as run only when its execute reply arrived (:attr:`executed`); when the kernel
  dies or stops answering, the cells that did not run are marked with an error output, so no
  test that did not run can score (nbgrader issue #427);
- a timed-out cell is interrupted and the notebook goes on, as in nbgrader; a kernel that does
  not become idle within :data:`INTERRUPT_GRACE` seconds of the interrupt is killed and the
  remaining cells are not run;
- outputs are capped per cell and per notebook while they arrive (the rest is counted and
  dropped, never stored); error outputs are always kept, shortened;
- the integrity guard (:mod:`autograder.integrity`) runs silently first and is polled before
  every test cell and at the end;
- cell tags cannot skip a cell (nbclient's ``skip-execution`` tag is disabled).
"""

import ast
import asyncio
import atexit
import math
import secrets
import time
from queue import Empty

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import Execute

from autograder import integrity

INTERRUPT_GRACE = 5  # seconds for a kernel to go idle after the timeout interrupt
CELL_OUTPUT_LIMIT = 256 * 1024  # characters of output kept per cell
NOTEBOOK_OUTPUT_LIMIT = 2 * 2**20  # characters of output kept per notebook
ERROR_TEXT_LIMIT = 20_000  # characters kept of an error message


def _output_size(msg):
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    data = content.get("data") or {}
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())


def not_run_output(reason):
    return NotebookNode(output_type="error", ename="NotRun", evalue=reason,
                        traceback=[f"NotRun: {reason}"])


class SandboxedExecute(Execute):
    """nbgrader's Execute, driven cell by cell with death, timeout and output accounting."""

    def __init__(self, nb, km, cell_timeout, guard_trusted=(), pylib="", **kwargs):
        super().__init__(
            km=km, timeout=max(1, math.ceil(cell_timeout)), interrupt_on_timeout=True,
            raise_on_iopub_timeout=True, iopub_timeout=INTERRUPT_GRACE, allow_errors=True,
            record_timing=False, shutdown_kernel="immediate", store_widget_state=False,
            skip_cells_with_tag=f"never-{secrets.token_hex(8)}",
            extra_arguments=["--HistoryManager.hist_file=:memory:"], **kwargs)
        self.nb = nb
        self.guard_name = f"_ag_{secrets.token_hex(8)}"
        self.guard_trusted = list(guard_trusted)
        self.pylib = str(pylib)
        self.executed = set()
        self.timed_out = []  # indices of cells interrupted after --cell-timeout
        self.unresponsive = None  # index of the cell after which the kernel was killed
        self.died_at = None  # index of the cell during which the kernel died
        self.guard_findings = []
        self._current = None
        self._chars = {}
        self._dropped = {}
        self._total_chars = 0
        self.exec_seconds = 0.0
        self.cells_seconds = 0.0  # the notebook's own execution time (sum over its cells)
        self.start_seconds = 0.0  # kernel start, until it answered kernel_info

    # -- nbclient hooks ---------------------------------------------------------------------
    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)  # nbgrader: an error reply always leaves an error output
        self.executed.add(kwargs["cell_index"])

    async def _async_handle_timeout(self, timeout, cell=None):
        if self._current is not None:
            self.timed_out.append(self._current)
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        content = msg["content"]
        if msg["msg_type"] == "error":  # always kept (grades depend on it), but shortened
            content["evalue"] = str(content.get("evalue", ""))[:ERROR_TEXT_LIMIT]
            content["traceback"] = [str(line)[:ERROR_TEXT_LIMIT] for line in content.get("traceback", [])[:200]]
            return super().output(outs, msg, display_id, cell_index)
        size = _output_size(msg)
        room = min(CELL_OUTPUT_LIMIT - self._chars.get(cell_index, 0), NOTEBOOK_OUTPUT_LIMIT - self._total_chars)
        if size > room:
            if msg["msg_type"] == "stream" and room > 0:  # keep the beginning of the text
                self._dropped[cell_index] = self._dropped.get(cell_index, 0) + size - room
                content["text"] = content["text"][:room]
                size = room
            else:
                self._dropped[cell_index] = self._dropped.get(cell_index, 0) + size
                return None
        self._chars[cell_index] = self._chars.get(cell_index, 0) + size
        self._total_chars += size
        return super().output(outs, msg, display_id, cell_index)

    # -- driving the kernel -------------------------------------------------------------------
    async def _silent(self, code, expressions=None, wait=30.0):
        """Run code without history or output; the reply, or None if none came in ``wait`` s."""
        msg_id = self.kc.execute(code, silent=True, store_history=False,
                                 user_expressions=expressions or {}, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=1)
            except Empty:
                if not await self.kc.is_alive():
                    return None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

    async def _poll_guard(self):
        reply = await self._silent("", {"r": f"__import__({self.guard_name!r}).check()"})
        if reply is None:
            return
        result = reply["content"].get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            error = f"{result.get('ename', '')}: {str(result.get('evalue', ''))[:120]}"
            self.guard_findings.append(f"the integrity guard was removed or broken ({error})")
            return
        try:
            findings = ast.literal_eval(result["data"]["text/plain"])
        except (ValueError, SyntaxError, KeyError):
            findings = ["the integrity guard returned garbage"]
        self.guard_findings.extend(f for f in findings if f not in self.guard_findings)

    async def _run_cells(self):
        # exit() or quit() in a notebook would stop the kernel a moment later (ipykernel's ask_exit):
        # make it a no-op so that the tests after it run, deterministically
        await self._silent("get_ipython().ask_exit = lambda: None\n"
                           + integrity.guard_code(self.guard_name, self.guard_trusted, self.pylib))
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if nbutils.is_grade(cell):
                await self._poll_guard()
            self._current = index
            cell_started = time.monotonic()
            try:
                await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
            except DeadKernelError:
                self.died_at = index
                return
            except CellTimeoutError:
                # no idle status within the grace period after the interrupt: stop this kernel
                if index not in self.timed_out:
                    self.timed_out.append(index)
                self.unresponsive = index
                return
            finally:
                self._current = None
                self.cells_seconds += time.monotonic() - cell_started
            dropped = self._dropped.get(index)
            if dropped:
                cell.outputs.append(NotebookNode(
                    output_type="stream", name="stdout",
                    text=f"\n[autograder: {dropped} more characters of output were not stored]\n"))
        await self._poll_guard()

    async def run(self, cwd, env, log_file, deadline):
        """Execute the notebook; returns nothing, the attributes say what happened."""
        started = time.monotonic()
        try:
            async with self.async_setup_kernel(cwd=str(cwd), env=env, stdout=log_file, stderr=log_file):
                self.start_seconds = time.monotonic() - started
                try:
                    await asyncio.wait_for(self._run_cells(), timeout=deadline)
                except TimeoutError:
                    self.unresponsive = self._current if self._current is not None else -1
        finally:
            self.exec_seconds = time.monotonic() - started
            atexit.unregister(self._cleanup_kernel)  # nbclient's safety net: the kernel is gone already

    def mark_not_run(self, reason):
        """Give every code cell that did not run an error output (so grade cells score 0)."""
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code" and cell.source.strip() and index not in self.executed:
                cell.outputs = list(cell.get("outputs", [])) + [not_run_output(reason)]
