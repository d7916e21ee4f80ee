"""How a chapter declares its graded tests: chapters, tests, cases, and the call plans of cases.

A :class:`Chapter` is declared once (``solutions/chapters/chNN_*.py``) and read by the release, the
grader, the test suite and the table of contents. Each graded test cell of the exercise notebook is
a :class:`Test`: the answer it grades (a function or class name), and the :class:`Case` s that
decide it. A case is a call plan (plain data, see :mod:`checks.probe`) plus a judge: a
trusted function of the student's records and the reference's records that raises
:class:`~checks.judge.Fail` with the student's message.

Inputs are generated here, on the trusted side (seeded numpy / torch generators), and travel as
data; a kernel that tampers with its own random state cannot change them.
"""

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from checks import judge as J
from checks import probe
from checks.words import N_


class Raw(dict):
    """A plan value that is already in wire form (a variable, a generator, a module)."""


def _holds_raw(value):
    if isinstance(value, Raw):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_raw(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_raw(v) for v in value.values())
    return False


def enc(value):
    """The wire form of a plan input (variables, generators and modules at any depth of a container)."""
    if isinstance(value, Raw):
        return dict(value)
    if isinstance(value, (list, tuple)) and _holds_raw(value):
        items = [enc(v) for v in value]
        return items if isinstance(value, list) else {"$": "tuple", "items": items}
    if isinstance(value, dict) and _holds_raw(value):
        return {"$": "dict", "items": [[probe.encode(k), enc(v)] for k, v in value.items()]}
    return probe.encode(value)


def var(name, *index):
    """The value bound to ``name`` by an earlier step (``index``: items to take, e.g. 0 of a tuple)."""
    return Raw({"$": "var", "name": name, "index": list(index)})


def generator(seed):
    """A fresh ``torch.Generator().manual_seed(seed)`` in the process that runs the plan."""
    return Raw({"$": "generator", "seed": int(seed)})


def module(layers, model=None, dtype="float64"):
    """An ``nn.Sequential`` of ``torch.nn`` layers ``[[name, *args], ...]`` with the state of ``model``."""
    state = [[k, probe.encode(v)] for k, v in model.state_dict().items()] if model is not None else []
    return Raw({"$": "module", "layers": [list(layer) for layer in layers], "dtype": dtype, "state": state})


def let(name, value):
    return {"op": "let", "as": name, "value": enc(value)}


def call(fn, *args, save=None, record=None, **kwargs):
    """Call the notebook's (or the reference's) ``fn``."""
    step = {"op": "call", "fn": fn, "args": [enc(a) for a in args], "kwargs": {k: enc(v) for k, v in kwargs.items()}}
    return _finish(step, save, record)


def method(on, name, *args, save=None, record=None, **kwargs):
    """Call method ``name`` of the value bound to ``on``."""
    step = {"op": "call", "on": on, "method": name, "args": [enc(a) for a in args],
            "kwargs": {k: enc(v) for k, v in kwargs.items()}}
    return _finish(step, save, record)


def library(name, *args, save=None, record=None):
    """Call a library function the probe allows (``torch.manual_seed``, ``copy.deepcopy``)."""
    return _finish({"op": "call", "lib": name, "args": [enc(a) for a in args]}, save, record)


def attribute(on, attr, save=None, record=None):
    return _finish({"op": "get", "on": on, "attr": attr}, save, record)


def record(label, value):
    return {"op": "record", "record": label, "value": enc(value)}


def bind(name, source):
    """For the rest of the case, the notebook's ``name`` is the function ``source`` defines (then restored).

    A test of a later answer runs with a correct version of an earlier answer it may call (the Lasso with a
    correct ``soft_threshold``): a mistake in the earlier answer costs points in its own test only. ``source``
    is course code that travels in the plan, so it must be something the exercise already shows (a formula of
    the recap), never the reference of a graded answer the student has not been given.
    """
    return {"op": "bind", "name": name, "source": source}


def _finish(step, save, record_label):
    if save:
        step["as"] = save
    if record_label:
        step["record"] = record_label
    return step


class Result(dict):
    """The decoded records of one case: label -> value or Raised.

    A label that is missing because an earlier step raised fails with that exception, so a judge
    can read ``result["out"]`` without checking first.
    """

    def __missing__(self, label):
        raised = [v for v in self.values() if isinstance(v, probe.Raised)]
        if raised:
            raise J.Fail(N_(f"{label}: not reached, an earlier step raised {raised[-1].name}: "
                            f"{raised[-1].message[:300]}"))
        raise J.Fail(N_(f"{label}: the check did not record it (did the call complete?)"))


@dataclass(frozen=True)
class Estimate:
    """A statistic of random outputs and its standard error: two estimates agree within 5 standard errors of
    their difference (see :mod:`checks.mistakes`, which compares a student's random outputs with a mistake's)."""

    value: float
    se: float


@dataclass(frozen=True)
class Case:
    """One hidden (or visible) case: a call plan and the judge of its records.

    ``judge(got, expected)`` gets two :class:`Result` s (the student's, the reference's) and raises
    :class:`~checks.judge.Fail`; ``label`` names the case in messages.

    For the diagnosis (:mod:`checks.mistakes`) a case is seen as observations: every recorded value,
    item by item. Records whose values are random draws (``random``: their labels) are not compared
    number by number (another answer draws in another order); ``quantities(result)`` gives what is
    compared instead, a dict of statistics (:class:`Estimate`) and exact facts (shapes, scales, flags).
    """

    label: str
    steps: list
    judge: Callable
    random: tuple = ()
    quantities: Callable | None = None


def seeded(seed, case):
    """``case`` with torch's default generator seeded first (answers that ignore ``generator`` are reproducible)."""
    return Case(label=case.label, steps=[library("torch.manual_seed", seed), *case.steps], judge=case.judge,
                random=case.random, quantities=case.quantities)


class Draw:
    """The seeds of a test's random hidden inputs.

    Every random input of a hidden case is drawn from a declared seed. Without a batch seed (plain nbgrader, the
    test suite, the release) the declared seed is used as is, so plans are the same everywhere; a grading batch
    passes its secret seed (kept in the gradebook: a rerun regrades identically), and every declared seed is mixed
    with it, so each batch draws other hidden inputs. Visible cases and fixed edge cases do not use a Draw.
    """

    def __init__(self, batch=None):
        self.batch = None if batch is None else int(batch)

    def seed(self, declared):
        """An int seed (for torch generators and ``torch.manual_seed``) from the declared one."""
        if self.batch is None:
            return declared
        return int(np.random.SeedSequence([self.batch, int(declared)]).generate_state(1, np.uint64)[0] >> 1)

    def numpy(self, declared):
        """A numpy Generator from the declared seed (``np.random.default_rng(declared)`` without a batch seed)."""
        return np.random.default_rng(declared if self.batch is None else [self.batch, int(declared)])


def function_case(fn, *args, hint="", rtol=1e-10, atol=1e-12, label=None, outputs=None, unchanged=True,
                  compare=None, **kwargs):
    """The common case: call ``fn(*args, **kwargs)`` and compare the result with the reference's.

    - where the reference raises, the student must raise the same exception class;
    - array arguments must come back unchanged (``unchanged``): no in-place edits of the caller's data;
    - ``outputs`` names the items of a tuple result (compared one by one, e.g. ``("coef", "intercept")``);
    - ``compare(got, expected, what)`` replaces the default comparison (``close`` with ``rtol``/``atol``).
    """
    label = label or _call_label(fn, args, kwargs)
    steps, refs = [], []
    for i, value in enumerate(args):
        if _is_array(value):
            steps.append(let(f"arg{i}", value))
            refs.append(var(f"arg{i}"))
        else:
            refs.append(value)
    steps.append(call(fn, *refs, save="result", record="result", **kwargs))
    watched = [(i, _numbers(a)) for i, a in enumerate(args) if unchanged and _is_array(a)]
    steps += [record(f"arg{i} after", var(f"arg{i}")) for i, _ in watched]

    def judge(got, expected):
        outcome = got["result"]
        if isinstance(expected["result"], probe.Raised):
            J.raises(outcome, expected["result"].name, label, hint)
            return
        if isinstance(outcome, probe.Raised):  # what the call did, before what it could not reach
            J.fail(label, f"raised {outcome.name}: {outcome.message[:300]}", hint)
        for i, original in watched:
            J.close(got[f"arg{i} after"], original, f"{label}: argument {i + 1} after the call", rtol=0, atol=0,
                    hint=f"{fn} modified its input in place; work on a copy")
        (compare or _default_compare(rtol, atol, hint, outputs))(outcome, expected["result"], label)

    return Case(label=label, steps=steps, judge=judge)


def _default_compare(rtol, atol, hint, outputs):
    def compare(got, expected, what):
        if outputs is None:
            J.close(got, expected, what, hint, rtol=rtol, atol=atol)
            return
        if isinstance(got, probe.Raised) or not isinstance(got, (tuple, list)) or len(got) != len(outputs):
            raise J.Fail(f"{what}: expected a tuple ({', '.join(outputs)}), got {J.describe(got)}")
        for name, g, e in zip(outputs, got, expected, strict=True):
            J.close(g, e, f"{what}: {name}", hint, rtol=rtol, atol=atol)
    return compare


def _numbers(value):
    """A numpy copy of an array or tensor argument."""
    if isinstance(value, np.ndarray):
        return value.copy()
    return value.detach().cpu().numpy().copy()


def _is_array(value):
    import sys

    torch = sys.modules.get("torch")
    return isinstance(value, np.ndarray) or (torch is not None and isinstance(value, torch.Tensor))


def _call_label(fn, args, kwargs):
    def show(v):
        if _is_array(v):
            kind = "tensor" if type(v).__module__.startswith("torch") else "array"
            return f"{kind} of shape {tuple(v.shape)}"
        if isinstance(v, Raw):
            return {"generator": f"generator(seed={v.get('seed')})", "var": v.get("name")}.get(v["$"], v["$"])
        return repr(v)
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


@dataclass(frozen=True)
class Test:
    """A graded test cell (``grade_id``) of the exercise notebook and the cases that decide it."""

    grade_id: str
    answer: str  # the function or class it grades (the answer cell's grade_id)
    signature: str  # how the exercise asks for it, e.g. "min_max_scale(X, feature_range=(0.0, 1.0))"
    build: Callable  # (draw) -> iterable of Case, deterministic for a given Draw (or () -> ..., no random inputs)

    def cases(self, seed=None):
        """The cases, their random hidden inputs drawn with the batch ``seed`` (None: the declared seeds)."""
        return _cases(self, seed)

    def plans(self, seed=None):
        return [case.steps for case in self.cases(seed)]


@functools.cache
def _cases(test, seed):
    takes_draw = bool(inspect.signature(test.build).parameters)
    return tuple(test.build(Draw(seed)) if takes_draw else test.build())


@dataclass(frozen=True)
class Chapter:
    """Everything the course needs to know about one chapter, declared once."""

    id: str  # "01-normalization": book/<id>.ipynb, exercises/source/<id>/<id>.ipynb
    title: str
    reference: tuple  # modules of the reference package that define the answers
    tests: tuple  # Test, in notebook order
    mistakes: str = ""  # module of the catalogue of known mistakes
    budget_seconds: float = 20.0  # the exercise notebook's execution budget
    setup: tuple = field(default=("import numpy as np",))  # what the answers may use (catalogued mistakes run in it)

    @property
    def book(self):
        return f"book/{self.id}.ipynb"

    @property
    def answers(self):
        return tuple(dict.fromkeys(t.answer for t in self.tests))

    def test(self, grade_id):
        for test in self.tests:
            if test.grade_id == grade_id:
                return test
        raise KeyError(grade_id)

    def reference_namespace(self):
        """answer name -> the reference object, looked up in :attr:`reference`; plus the names :attr:`setup` defines."""
        return _reference_namespace(self)

    def plans(self, seed=None):
        """{grade_id: [steps of each case]}: everything a grading kernel receives (``seed``: the batch's)."""
        return {t.grade_id: t.plans(seed) for t in self.tests}


@functools.cache
def _reference_namespace(chapter):
    # The names of the notebook's setup cell first, as in the student's kernel and the mistakes' namespaces:
    # a plan may call them (e.g. an optimizer class whose scheduler is the answer).
    namespace = {}
    exec("\n".join(chapter.setup), namespace)  # noqa: S102 - the course's own imports
    modules = [importlib.import_module(name) for name in chapter.reference]
    for answer in chapter.answers:
        for module_ in modules:
            if hasattr(module_, answer):
                namespace[answer] = getattr(module_, answer)
                break
        else:
            raise LookupError(f"{chapter.id}: no reference for {answer!r} in {', '.join(chapter.reference)}")
    return namespace
