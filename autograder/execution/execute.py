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

One filter for everything the kernel sends (:class:`ScreenedChannel`, :meth:`SandboxedExecute.process_message`):
every message of the IOPub and shell channels is checked for its structure before nbclient reads it (a
frame that does not deserialize, a header that is not a dict, a message larger than
:data:`MESSAGE_LIMIT`: dropped and counted); comm messages and unknown types are dropped (no widget
can redirect outputs); and every output-carrying type (``stream``, ``display_data``,
``update_display_data``, ``execute_result``, ``error``) passes the same validation, output caps and
record filter, whatever route nbclient takes for it (``update_display_data`` rewrites earlier outputs
through ``_update_display_id``, not ``output()``). A malformed message is the student's doing: it is
dropped and the cell says so, never a grader error.
"""

import asyncio
import json
import math
import secrets
import time
from queue import Empty

from jupyter_client.kernelspec import KernelSpec
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from autograder.compat.jupyter_client import (
    PromptClient,
    ProvisionerHookKernelManager,
    replace_channel,
    set_kernel_spec,
)
from autograder.compat.nbclient import TimeoutHooks, forget_kernel
from autograder.sandbox.forkserver import ZygoteProvisioner

INTERRUPT_GRACE = 5  # seconds for a kernel to go idle after the timeout interrupt
CELL_OUTPUT_LIMIT = 256 * 1024  # characters of output kept per cell
NOTEBOOK_OUTPUT_LIMIT = 2 * 2**20  # characters of output kept per notebook
ERROR_TEXT_LIMIT = 20_000  # characters kept of an error message
RECORDS_LIMIT = 64 * 2**20  # characters of records accepted per notebook
MESSAGE_LIMIT = RECORDS_LIMIT + 16 * 2**20  # bytes of one message frame (ZMQ disconnects a larger one)
TRACEBACK_LINES = 200
MIME = "application/vnd.course-autograder.records+json"  # == checks.probe.MIME (tested)
OUTPUT_TYPES = ("stream", "display_data", "update_display_data", "execute_result", "error")
IOPUB_TYPES = (*OUTPUT_TYPES, "status", "clear_output", "execute_input")


class Malformed(Exception):
    """A message from the kernel that is not what its type promises (the student's doing)."""


def _text(value, limit=None):
    if type(value) is not str:
        raise Malformed("a text field is not a string")
    return value if limit is None else value[:limit]


def _bundle_size(data):
    """Characters of a MIME bundle ({mime: str or JSON}); raises Malformed for anything else."""
    if type(data) is not dict:
        raise Malformed("a MIME bundle is not a dict")
    size = 0
    for key, value in data.items():
        if type(key) is not str:
            raise Malformed("a MIME type is not a string")
        size += len(key) + (len(value) if type(value) is str else len(json.dumps(value)))
    return size


def screen_structure(msg, channel):
    """The message with its envelope checked (header, parent_header, metadata, content are dicts, the type
    a string); None to drop it (comm messages, unknown types, an execution count that is not a number)."""
    if type(msg) is not dict or type(msg.get("content")) is not dict or type(msg.get("header")) is not dict:
        raise Malformed("a message without a header or content")
    for key in ("parent_header", "metadata"):
        if type(msg.get(key)) is not dict:
            msg[key] = {}
    msg_type = msg.get("msg_type")
    if type(msg_type) is not str or msg["header"].get("msg_type") != msg_type:
        raise Malformed("a message type that is not a string, or two types")
    content = msg["content"]
    if "execution_count" in content and not (content["execution_count"] is None
                                             or type(content["execution_count"]) is int):
        del content["execution_count"]
    if channel == "iopub":
        if msg_type.startswith("comm_") or msg_type not in IOPUB_TYPES:
            return None  # widgets, custom comms, unknown types: nothing the grader stores or obeys
        transient = content.get("transient")
        if transient is not None and (type(transient) is not dict or type(transient.get("display_id", "")) is not str):
            content.pop("transient")
        if msg_type == "status" and type(content.get("execution_state")) is not str:
            raise Malformed("a status without a state")
    elif channel == "shell" and msg_type == "execute_reply":
        status = content.get("status")
        if status not in ("ok", "error", "aborted"):
            content["status"] = "error"
        if content["status"] == "error":  # nbgrader reads these into an error output
            content["ename"] = str(content.get("ename"))[:200] if type(content.get("ename")) is str else "Error"
            content["evalue"] = content["evalue"][:ERROR_TEXT_LIMIT] if type(content.get("evalue")) is str else ""
            lines = content.get("traceback")
            content["traceback"] = [str(line)[:ERROR_TEXT_LIMIT] for line in lines[:TRACEBACK_LINES]
                                    if type(line) is str] if type(lines) is list else []
    return msg


class ScreenedChannel:
    """A kernel client's channel whose ``get_msg`` returns only messages that passed :func:`screen_structure`:
    a message that fails to deserialize or is malformed is dropped and counted (``on_malformed``)."""

    def __init__(self, channel, name, on_malformed):
        self._channel, self._name, self._on_malformed = channel, name, on_malformed
        try:
            import zmq

            channel.socket.setsockopt(zmq.MAXMSGSIZE, MESSAGE_LIMIT)
        except Exception:  # noqa: BLE001 - a socket without the option: the caps below still hold
            pass

    def __getattr__(self, name):
        return getattr(self._channel, name)

    async def get_msg(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                msg = await self._channel.get_msg(timeout=remaining)
            except Empty:
                raise
            except Exception as err:  # noqa: BLE001 - a frame that is not a message (bad JSON, bad signature)
                self._on_malformed(f"{type(err).__name__}")
                if deadline is not None and time.monotonic() >= deadline:
                    raise Empty from None
                continue
            try:
                screened = screen_structure(msg, self._name)
            except Malformed as err:
                self._on_malformed(str(err))
                continue
            if screened is not None:
                return screened


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
        self._errors = set()  # cells that kept an error output
        self.dropped = {}
        self.malformed = {}  # cell index (-1: between cells) -> messages dropped as malformed
        self.malformed_reason = ""
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

    def process_message(self, msg, cell, cell_index):
        """Every IOPub message of a cell passes here (before nbclient's own handling): its content is
        validated for its type, records are taken out, and outputs of every type count against the caps."""
        try:
            if not self._screen(msg, cell_index):
                return None
        except Malformed as err:
            self._malformed(cell_index, str(err))
            return None
        try:
            return super().process_message(msg, cell, cell_index)
        except CellExecutionComplete:
            raise
        except Exception as err:  # noqa: BLE001 - content nbclient cannot apply (e.g. a stale display id)
            self._malformed(cell_index, f"{msg['msg_type']}: {type(err).__name__}")
            return None

    def _screen(self, msg, cell_index):
        """True when nbclient may handle ``msg`` (possibly shortened); False to drop it."""
        msg_type, content = msg["msg_type"], msg["content"]
        if msg_type in ("status", "execute_input", "clear_output"):
            return True
        if msg_type == "stream":
            if content.get("name") not in ("stdout", "stderr"):
                raise Malformed("a stream that is neither stdout nor stderr")
            text = _text(content.get("text"))
            room = self._room(cell_index)
            if len(text) > room:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + len(text) - max(room, 0)
                if room <= 0:
                    return False
                content["text"] = text[:room]
            self._charge(cell_index, len(content["text"]))
            return True
        if msg_type == "error":  # kept (grades depend on it), shortened; one per cell beyond the caps
            content["ename"] = _text(content.get("ename"), 200)
            content["evalue"] = _text(content.get("evalue"), ERROR_TEXT_LIMIT)
            lines = content.get("traceback", [])
            if type(lines) is not list:
                raise Malformed("a traceback that is not a list")
            content["traceback"] = [_text(line, ERROR_TEXT_LIMIT) for line in lines[:TRACEBACK_LINES]]
            size = len(content["evalue"]) + sum(map(len, content["traceback"]))
            if size > self._room(cell_index) and cell_index in self._errors:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return False
            self._errors.add(cell_index)
            self._charge(cell_index, size)
            return True
        # display_data, update_display_data, execute_result: a MIME bundle
        data, metadata = content.get("data"), content.setdefault("metadata", {})
        if type(metadata) is not dict:
            raise Malformed("output metadata that is not a dict")
        if msg_type == "execute_result":
            content.setdefault("execution_count", None)
        if type(data) is dict and MIME in data:
            text = data.pop(MIME)
            self._record(text, cell_index, accepted=msg_type == "display_data" and not data)
            if not data:
                return False
        size = _bundle_size(data) + len(json.dumps(metadata))
        if size > self._room(cell_index):
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
            return False
        self._charge(cell_index, size)
        return True

    def _record(self, text, cell_index, accepted):
        """A record message: kept for the parent when it came alone, during its own cell, within the limit."""
        if not accepted or type(text) is not str or self._records_chars + len(text) > RECORDS_LIMIT \
                or cell_index != self._current:
            self.stray_records += 1
            return
        self._records_chars += len(text)
        self.records.setdefault(cell_index, []).append(text)

    def _room(self, cell_index):
        return min(CELL_OUTPUT_LIMIT - self._chars.get(cell_index, 0), NOTEBOOK_OUTPUT_LIMIT - self._total_chars)

    def _charge(self, cell_index, size):
        self._chars[cell_index] = self._chars.get(cell_index, 0) + size
        self._total_chars += size

    def _malformed(self, cell_index, reason):
        key = cell_index if cell_index is not None else -1
        self.malformed[key] = self.malformed.get(key, 0) + 1
        self.malformed_reason = self.malformed_reason or reason

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "error":
            msg["content"].setdefault("traceback", [])
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
            malformed = self.malformed.get(index)
            if malformed:
                cell.outputs.append(NotebookNode(
                    output_type="stream", name="stdout",
                    text=f"\n[autograder: {malformed} malformed message(s) from the kernel were ignored "
                         f"({self.malformed_reason})]\n"))

    async def run(self, env, log_file):
        """Execute the notebook; returns nothing, the attributes say what happened."""
        started = time.monotonic()
        self.deadline = started + self.limits.notebook_timeout
        try:
            async with self.async_setup_kernel(env=env, stdout=log_file, stderr=log_file):
                self.start_seconds = time.monotonic() - started
                self.screen_channels()
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

    def screen_channels(self):
        """From here on (the kernel answered; no student code has run yet), every message the client reads
        passes :class:`ScreenedChannel`."""
        for name in ("iopub", "shell"):
            channel = getattr(self.kc, f"{name}_channel")
            if not isinstance(channel, ScreenedChannel):
                screened = ScreenedChannel(channel, name, lambda reason: self._malformed(self._current, reason))
                replace_channel(self.kc, name, screened)

    def mark_not_run(self, reason):
        """Give every code cell that did not run an error output (so grade cells score 0)."""
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code" and cell.source.strip() and index not in self.executed:
                cell.outputs = list(cell.get("outputs", [])) + [not_run_output(reason)]
