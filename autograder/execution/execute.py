"""Run one prepared notebook in its sandboxed kernel, cell by cell, and collect what it sent.

Built on nbgrader's ``Execute`` preprocessor (its timeout output, its handling of an error reply
without an error output); the only step of nbgrader's autograde chain the grader replaces. On top:

- before the first cell, one silent request installs the probe (:mod:`checks.probe`,
  sent as source) and the notebook's call plans; test cells then call it instead of hidden tests;
- record messages (display data of type ``probe.MIME``) are taken out of the outputs and kept per
  cell for the parent to judge; the kernel cannot write them into the graded notebook;
- a cell counts as run only when its execute reply arrived; when the kernel dies or stops
  answering, the cells that did not run get an error output, so no test that did not run can score;
- a timed-out cell is interrupted (an interrupt message: the sandbox has its own process tree) and
  the notebook goes on, as in nbgrader; a kernel that does not go idle within
  :data:`INTERRUPT_GRACE` seconds is killed; the whole notebook stops at ``notebook_timeout``;
- outputs are capped per cell and per notebook while they arrive (the rest is counted, never
  stored); error outputs are kept, shortened; cell tags cannot skip a cell.
"""

import asyncio
import math
import secrets
import time

from jupyter_client.kernelspec import KernelSpec
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from autograder.compat.jupyter_client import PromptClient, ProvisionerHookKernelManager, set_kernel_spec
from autograder.compat.nbclient import TimeoutHooks, forget_kernel
from autograder.sandbox.forkserver import ZygoteProvisioner

INTERRUPT_GRACE = 5  # seconds for a kernel to go idle after the timeout interrupt
CELL_OUTPUT_LIMIT = 256 * 1024  # characters of output kept per cell
NOTEBOOK_OUTPUT_LIMIT = 2 * 2**20  # characters of output kept per notebook
ERROR_TEXT_LIMIT = 20_000  # characters kept of an error message
RECORDS_LIMIT = 64 * 2**20  # characters of records accepted per notebook
MIME = "application/vnd.course-autograder.records+json"  # == checks.probe.MIME (tested)


def kernel_argv():
    import sys

    # nbgrader's Execute adds --HistoryManager.hist_file=:memory: (no history file in the sandbox)
    return [sys.executable, "-I", "-m", "ipykernel_launcher", "-f", "{connection_file}"]


class SandboxedKernelManager(ProvisionerHookKernelManager):
    """A kernel started through the sandbox's command, interrupted by message (no signals cross the sandbox)."""
    sandbox = None  # autograder.sandbox.bwrap.KernelSandbox (a fresh sandbox per kernel)
    zygote = None  # or autograder.sandbox.forkserver.Zygote (a kernel forked in the slot's sandbox)
    spawn_args = None

    def own_provisioner(self):
        if self.zygote is None:
            return None
        provisioner = ZygoteProvisioner(kernel_id=self.kernel_id or "", kernel_spec=self.kernel_spec, parent=self)
        provisioner.zygote, provisioner.spawn_args = self.zygote, self.spawn_args
        return provisioner

    def format_kernel_cmd(self, extra_arguments=None):
        box = self.sandbox if self.sandbox is not None else self.zygote.sandbox
        box.own(self.connection_file)  # written 0600 by jupyter_client; the sandbox user reads it
        if self.zygote is not None:
            return super().format_kernel_cmd(extra_arguments)  # not run: the zygote forks the kernel
        return self.sandbox.command(super().format_kernel_cmd(extra_arguments))


def make_kernel_manager(kernel_sandbox, folder, zygote=None, spawn_args=None):
    km = SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(folder / "ipc"),
                                connection_file=str(folder / "kernel.json"))
    set_kernel_spec(km, KernelSpec(argv=kernel_argv(), display_name="Python 3", language="python",
                                   interrupt_mode="message"))
    km.sandbox, km.zygote, km.spawn_args = kernel_sandbox, zygote, spawn_args
    km.client_factory = PromptClient
    return km


def _output_size(msg):
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    data = content.get("data") or {}
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())


def not_run_output(reason):
    return NotebookNode(output_type="error", ename="NotRun", evalue=reason, traceback=[f"NotRun: {reason}"])


def boot_code(probe_source, plans_json):
    """The silent first request: the probe as a module ``__autograder__``, the plans, a harmless exit()."""
    return (
        "def __autograder_boot__(source, plans):\n"
        "    import sys, types\n"
        "    module = types.ModuleType('__autograder__')\n"
        "    exec(compile(source, '<autograder probe>', 'exec'), module.__dict__)\n"
        "    sys.modules['__autograder__'] = module\n"
        "    get_ipython().user_ns['__autograder__'] = module\n"
        "    module.install(plans)\n"
        "    get_ipython().ask_exit = lambda: None  # exit() in a cell must not stop the tests after it\n"
        f"__autograder_boot__({probe_source!r}, {plans_json!r})\n"
        "del __autograder_boot__\n"
    )


class SandboxedExecute(TimeoutHooks, Execute):
    """nbgrader's Execute, driven cell by cell with death, timeout, output and record accounting."""

    def __init__(self, nb, km, limits, probe_source, plans_json, **kwargs):
        super().__init__(
            km=km, timeout=max(1, math.ceil(limits.cell_timeout)), interrupt_on_timeout=True,
            raise_on_iopub_timeout=True, iopub_timeout=INTERRUPT_GRACE, allow_errors=True,
            record_timing=False, shutdown_kernel="immediate", store_widget_state=False,
            skip_cells_with_tag=f"never-{secrets.token_hex(8)}", **kwargs)
        self.nb = nb
        self.limits = limits
        self.boot = boot_code(probe_source, plans_json)
        self.executed = set()
        self.timed_out = []  # indices of cells interrupted after --cell-timeout
        self.unresponsive = None  # index of the cell after which the kernel was killed
        self.notebook_timeout = False
        self.deadline = math.inf
        self.died_at = None  # index of the cell during which the kernel died (-1: while starting)
        self.boot_failed = ""
        self.records = {}  # cell index -> [JSON text, ...]
        self.stray_records = 0
        self._records_chars = 0
        self._current = None
        self._chars = {}
        self.dropped = {}
        self._total_chars = 0
        self.cells_seconds = 0.0  # the notebook's own execution time (sum over its cells)
        self.start_seconds = 0.0  # kernel start, until it answered kernel_info

    # -- nbclient hooks ---------------------------------------------------------------------
    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)  # nbgrader: an error reply always leaves an error output
        self.executed.add(kwargs["cell_index"])

    def cell_timeout(self, cell):
        """A cell's timeout: --cell-timeout, or less when the notebook's own deadline comes first."""
        remaining = self.deadline - time.monotonic()
        return max(1, min(self.timeout, math.ceil(remaining)))

    def on_cell_timeout(self, cell):
        if self._current is not None:
            self.timed_out.append(self._current)
        if time.monotonic() >= self.deadline - 0.5:
            self.notebook_timeout = True

    def output(self, outs, msg, display_id, cell_index):
        content = msg["content"]
        data = content.get("data") if msg["msg_type"] in ("display_data", "update_display_data") else None
        if isinstance(data, dict) and MIME in data:
            text = data[MIME]
            if not isinstance(text, str) or self._records_chars + len(text) > RECORDS_LIMIT:
                self.stray_records += 1
                return None
            self._records_chars += len(text)
            if cell_index == self._current:
                self.records.setdefault(cell_index, []).append(text)
            else:
                self.stray_records += 1
            return None
        if msg["msg_type"] == "error":  # always kept (grades depend on it), but shortened
            content["evalue"] = str(content.get("evalue", ""))[:ERROR_TEXT_LIMIT]
            content["traceback"] = [str(line)[:ERROR_TEXT_LIMIT] for line in content.get("traceback", [])[:200]]
            return super().output(outs, msg, display_id, cell_index)
        size = _output_size(msg)
        room = min(CELL_OUTPUT_LIMIT - self._chars.get(cell_index, 0), NOTEBOOK_OUTPUT_LIMIT - self._total_chars)
        if size > room:
            if msg["msg_type"] == "stream" and room > 0:  # keep the beginning of the text
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size - room
                content["text"] = content["text"][:room]
                size = room
            else:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return None
        self._chars[cell_index] = self._chars.get(cell_index, 0) + size
        self._total_chars += size
        return super().output(outs, msg, display_id, cell_index)

    # -- driving the kernel -------------------------------------------------------------------
    async def _silent(self, code, wait=60.0):
        """Run code without history or output; the reply content, or None if none came in ``wait`` s."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=1)
            except Exception:  # noqa: BLE001 - queue.Empty, or a closed channel
                if not await self.kc.is_alive():
                    return None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]
        return None

    async def _run_cells(self):
        reply = await self._silent(self.boot)
        if reply is None or reply.get("status") != "ok":
            detail = "no reply" if reply is None else f"{reply.get('ename')}: {reply.get('evalue')}"
            self.boot_failed = f"the grader's probe could not be installed in the kernel ({detail[:300]})"
            return
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if self.notebook_timeout or time.monotonic() >= self.deadline:
                self.notebook_timeout = True
                self.unresponsive = index
                return
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
            dropped = self.dropped.get(index)
            if dropped:
                cell.outputs.append(NotebookNode(
                    output_type="stream", name="stdout",
                    text=f"\n[autograder: {dropped} more characters of output were not stored]\n"))

    async def run(self, env, log_file):
        """Execute the notebook; returns nothing, the attributes say what happened."""
        started = time.monotonic()
        self.deadline = started + self.limits.notebook_timeout
        try:
            async with self.async_setup_kernel(env=env, stdout=log_file, stderr=log_file):
                self.start_seconds = time.monotonic() - started
                try:  # cells stop themselves at the deadline (_get_timeout); this is the backstop
                    backstop = self.limits.notebook_timeout + 2 * INTERRUPT_GRACE
                    await asyncio.wait_for(self._run_cells(), timeout=backstop)
                except TimeoutError:
                    self.notebook_timeout = True
                    self.unresponsive = self._current if self._current is not None else -1
        except RuntimeError as err:  # the kernel died before answering kernel_info
            if "Kernel died" not in str(err) and "kernel_info" not in str(err):
                raise
            self.died_at = -1
        finally:
            forget_kernel(self)

    def mark_not_run(self, reason):
        """Give every code cell that did not run an error output (so grade cells score 0)."""
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code" and cell.source.strip() and index not in self.executed:
                cell.outputs = list(cell.get("outputs", [])) + [not_run_output(reason)]
