"""One status and one detail line per submission, from what the worker saw: a pure function.

Order of precedence: a grader error (never the student's fault), an ungradable file, then the
kernel's fate (died, killed at a limit), then limits reached while the notebook went on. Notes that do
not change the status (repairs of the notebook's shape, output dropped, a refused fork) follow.
"""

import signal

from autograder.common.records import Status
from autograder.common.words import N_

_SIGNALS = {signal.SIGSEGV: N_("a segmentation fault"), signal.SIGABRT: N_("an abort"),
            signal.SIGBUS: N_("a bus error"), signal.SIGKILL: "SIGKILL", signal.SIGXCPU: N_("the CPU-time limit"),
            signal.SIGILL: N_("an illegal instruction"), signal.SIGFPE: N_("a floating-point exception")}


def _cell(index):
    return N_("while starting") if index is None or index < 0 else N_(f"in cell {index + 1}")


def _exit_text(code):
    if code is None:
        return N_("the kernel stopped responding")
    signum = -code if code < 0 else code - 128 if code > 128 else None
    if signum:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        return N_(f"the kernel was killed by {name} ({_SIGNALS.get(signum, 'a signal')})")
    return N_(f"the kernel process exited with status {code} (os._exit?)")


def classify(run, limits):
    """(Status, detail) of a :class:`~autograder.common.records.KernelRun` under ``limits``."""
    notes = []
    if run.grader_error:
        first = run.grader_error.strip().splitlines()[-1][:300] if run.grader_error.strip() else "unknown"
        return Status.GRADER_ERROR, N_(f"grader error (not the student's fault; see the log): {first}")
    if run.missing:
        return Status.MISSING_NOTEBOOK, "; ".join([N_("no notebook in the submission folder"), *run.notes])
    if run.invalid:
        return Status.INVALID_NOTEBOOK, "; ".join([run.invalid, *run.notes])
    status = Status.OK
    memory = f"--memory-mb {limits.memory_mb}"
    if run.notebook_timeout:
        status = Status.CELL_TIMEOUT
        notes.append(N_(f"the notebook ran past --notebook-timeout {limits.notebook_timeout:g} s "
                     f"({_cell(run.unresponsive)}); it was stopped, later cells not run, scored 0"))
    elif run.died_at is not None:
        where = _cell(run.died_at)
        if run.oom_killed:
            status = Status.MEMORY_LIMIT
            notes.append(N_(f"the kernel used more than {memory} and was killed {where}; later cells not run, "
                            "scored 0"))
        elif run.cpu_limit:
            status = Status.CELL_TIMEOUT
            notes.append(N_(f"the kernel used up its CPU time ({limits.cpu_limit} s) {where}; later cells not run"))
        else:
            status = Status.KERNEL_DIED
            notes.append(N_(f"{_exit_text(run.exit_code)} {where}; later cells not run, scored 0"))
    elif run.unresponsive is not None:
        status = Status.CELL_TIMEOUT
        notes.append(N_(f"cell {run.unresponsive + 1} ran past --cell-timeout {limits.cell_timeout:g} s and ignored "
                     "the interrupt; the kernel was stopped, later cells not run, scored 0"))
    elif run.memory_errors or run.oom_killed:
        status = Status.MEMORY_LIMIT
        where = ", ".join(N_(f"cell {i + 1}") for i in run.memory_errors[:3]) or N_("a child process")
        notes.append(N_(f"MemoryError or a killed allocation under {memory} in {where}"))
    elif run.timed_out:
        status = Status.CELL_TIMEOUT
        cells = ", ".join(N_(f"cell {i + 1}") for i in run.timed_out[:3])
        notes.append(N_(f"{cells} exceeded --cell-timeout {limits.cell_timeout:g} s and was interrupted"))
    if run.process_limit:
        notes.append(N_(f"process limit reached ({limits.processes} processes and threads): a fork or thread "
                        "was refused"))
    if run.output_dropped:
        notes.append(N_(f"output truncated: {run.output_dropped} characters not stored"))
    if run.malformed_messages:
        notes.append(N_(f"{run.malformed_messages} malformed message(s) from the kernel ignored"))
    if run.stray_records:
        notes.append(N_(f"{run.stray_records} record message(s) outside their test cell ignored"))
    notes += [N_(f"repaired: {r}") for r in run.repairs]
    notes += list(run.notes)
    return status, "; ".join(dict.fromkeys(n for n in notes if n))
