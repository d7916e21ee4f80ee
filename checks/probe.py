"""The probe: run a check's call plan against a namespace and return what happened as plain data.

A *plan* is a list of steps (plain JSON data, written by the trusted side from a chapter's test
specification): bind an input, call a function or method, read an attribute, record a value. The
probe runs the steps against a namespace (the student's notebook, or the reference package) and
returns *records*: the recorded values, or the exception a step raised.

It runs in two places:

- inside the grading kernel: the grader sends this module's source and the plans of the notebook;
  the hidden region of a test cell becomes ``__autograder__.check("<test id>")``, which runs the
  plans against the notebook's namespace and ships the records to the grader as one display_data
  message of type :data:`MIME`. The kernel never sees a hidden test, a tolerance or the reference;
- in trusted processes, on the reference and on catalogued mistakes (the grader, plain nbgrader's
  ``checks.check``, the test suite).

So it depends on the standard library and numpy only, and on torch when a value is a tensor
(imported lazily: chapters 1-2 never pay for torch). The wire format is JSON; arrays travel as
base64 bytes with dtype and shape, never as pickles. :func:`decode_records` is the strict reader
the trusted side applies to what a kernel sent: it accepts data only (arrays of numeric dtypes,
numbers, strings, lists, tuples, dicts) and bounds depth, sizes and counts.
"""

import base64
import json
import sys
from dataclasses import dataclass

import numpy as np

MIME = "application/vnd.course-autograder.records+json"
MAX_DEPTH = 16
MAX_ITEMS = 100_000  # list/tuple/dict entries per container
MAX_TEXT = 2_000  # characters kept of a string or an exception message
NUMERIC_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                  "float16", "float32", "float64", "complex64", "complex128"}


# -- values in the trusted reader's hands ---------------------------------------------------------
@dataclass(frozen=True)
class Array:
    """A recorded array: ``kind`` is "ndarray", "tensor" or "scalar" (a numpy scalar)."""

    kind: str
    dtype: str  # numpy dtype name, or torch's ("bfloat16") when numpy has none
    value: np.ndarray
    requires_grad: bool = False

    def __repr__(self):
        return f"{self.kind}(dtype={self.dtype}, shape={tuple(self.value.shape)})"


@dataclass(frozen=True)
class Raised:
    """A step raised: the exception's class names (its MRO, most specific first) and its message."""

    types: tuple
    message: str

    @property
    def name(self):
        return self.types[0] if self.types else "Exception"

    def is_a(self, name):
        return name in self.types


@dataclass(frozen=True)
class Opaque:
    """A value that is not data (a function, a module, any other object): only its type is kept."""

    type_name: str


# -- encoding (both sides) ------------------------------------------------------------------------
def _text(value):
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = "<unprintable>"
    return text[:MAX_TEXT]


def _array_payload(arr):
    arr = np.asarray(arr, order="C")  # (ascontiguousarray would turn a 0-d array into shape (1,))
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return {"dtype": arr.dtype.name, "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes()).decode("ascii")}


def _tensor_payload(tensor):
    import torch

    with torch._C.DisableTorchFunction():  # a subclass's __torch_function__ is not consulted
        plain = torch.Tensor.detach(tensor).cpu()
        requires_grad = bool(torch.Tensor.requires_grad.__get__(tensor))
        dtype = str(plain.dtype).replace("torch.", "")
        if dtype == "bfloat16":
            plain = plain.to(torch.float32)
        payload = _array_payload(plain.resolve_conj().resolve_neg().numpy())
    payload.update({"$": "tensor", "torch_dtype": dtype, "requires_grad": requires_grad})
    return payload


def encode(value, depth=0):
    """A JSON-able form of ``value`` (arrays, tensors, numbers, strings, containers; else its type)."""
    if depth > MAX_DEPTH:
        return {"$": "opaque", "type": "nested too deeply"}
    if value is None or isinstance(value, (bool, int, float)) and type(value) in (bool, int, float):
        return value
    if type(value) is str:
        return value[:MAX_TEXT]
    if isinstance(value, np.ndarray):
        if value.dtype.name not in NUMERIC_DTYPES:
            return {"$": "opaque", "type": f"ndarray of dtype {value.dtype}"}
        return {"$": "ndarray", **_array_payload(np.asarray(value))}
    if isinstance(value, np.generic) and np.asarray(value).dtype.name in NUMERIC_DTYPES:
        return {"$": "scalar", **_array_payload(np.asarray(value))}
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(value, torch.Tensor):
            return _tensor_payload(value)
        if isinstance(value, torch.dtype):
            return {"$": "torch_dtype", "name": str(value).replace("torch.", "")}
    if type(value) in (list, tuple):
        items = [encode(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
        return items if type(value) is list else {"$": "tuple", "items": items}
    if type(value) is dict:
        return {"$": "dict", "items": [[encode(k, depth + 1), encode(v, depth + 1)]
                                       for k, v in list(value.items())[:MAX_ITEMS]]}
    if torch is not None and isinstance(value, torch.nn.Module):
        return {"$": "opaque", "type": f"module {type(value).__name__}"}
    try:
        name = type(value).__qualname__
    except Exception:  # noqa: BLE001
        name = "?"
    return {"$": "opaque", "type": _text(name)}


def encode_raised(err):
    try:
        types = [c.__name__ for c in type(err).__mro__][:10]
    except Exception:  # noqa: BLE001
        types = ["Exception"]
    return {"raised": types, "message": _text(err)}


# -- decoding plan inputs (trusted plans only: generators, modules and variables allowed) --------
def _array_from(payload):
    dtype = np.dtype(payload["dtype"])
    arr = np.frombuffer(base64.b64decode(payload["data"]), dtype=dtype.newbyteorder("<"))
    return arr.reshape(payload["shape"]).astype(dtype).copy()


def _torch_dtype(name):
    import torch

    return getattr(torch, name)


def _module(spec):
    """An ``nn.Sequential`` of ``torch.nn`` layers given as [name, *args] lists, then its state."""
    import torch

    layers = [getattr(torch.nn, name)(*args) for name, *args in spec["layers"]]
    model = torch.nn.Sequential(*layers).to(_torch_dtype(spec.get("dtype", "float64")))
    if spec.get("state"):
        model.load_state_dict({k: to_python(v, {}) for k, v in spec["state"]})
    return model


def to_python(obj, env):
    """The live value of a plan input: arrays, tensors, generators, modules, variables of ``env``."""
    if isinstance(obj, list):
        return [to_python(v, env) for v in obj]
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("$")
    if kind == "ndarray":
        return _array_from(obj)
    if kind == "scalar":
        return _array_from(obj)[()]
    if kind == "tensor":
        import torch

        tensor = torch.from_numpy(_array_from(obj)).to(_torch_dtype(obj["torch_dtype"]))
        return tensor.requires_grad_(True) if obj.get("requires_grad") else tensor
    if kind == "tuple":
        return tuple(to_python(v, env) for v in obj["items"])
    if kind == "dict":
        return {to_python(k, env): to_python(v, env) for k, v in obj["items"]}
    if kind == "torch_dtype":
        return _torch_dtype(obj["name"])
    if kind == "generator":
        import torch

        return torch.Generator().manual_seed(obj["seed"])
    if kind == "module":
        return _module(obj)
    if kind == "var":
        value = env[obj["name"]]
        for key in obj.get("index", []):
            value = value[key]
        return value
    raise ValueError(f"unknown plan value {kind!r}")


# -- running a plan -------------------------------------------------------------------------------
def _library(name):
    """The few library functions a plan may call directly (seeding the global RNG, deep copies)."""
    if name == "torch.manual_seed":
        import torch

        # the CPU generator, which is all torch.manual_seed seeds that a CPU-only process draws from; torch's own
        # function also formats the whole call stack for a CUDA seeding it defers (1 ms a call under a deep stack)
        return lambda seed: torch.random.default_generator.manual_seed(seed) and None
    if name == "copy.deepcopy":
        import copy

        return copy.deepcopy
    raise ValueError(f"plans may not call {name!r}")


def _step(step, env, namespace):
    op = step["op"]
    if op == "let":
        return to_python(step["value"], env)
    if op == "record":
        return to_python(step["value"], env)
    if op == "get":
        return getattr(env[step["on"]], step["attr"])
    if op == "call":
        if "lib" in step:
            target = _library(step["lib"])
        elif "on" in step:
            target = getattr(env[step["on"]], step["method"])
        else:
            if step["fn"] not in namespace:
                raise NameError(f"name {step['fn']!r} is not defined")
            target = namespace[step["fn"]]
        args = [to_python(a, env) for a in step.get("args", [])]
        kwargs = {k: to_python(v, env) for k, v in step.get("kwargs", {}).items()}
        return target(*args, **kwargs)
    raise ValueError(f"unknown plan step {op!r}")


_UNBOUND = object()
_COMPILED = {}  # source of a course helper -> its code: each is compiled once per process, not once per case


def _bind(step, namespace, saved):
    """A "bind" step: the namespace's name becomes the function the (trusted) plan defines, until the case ends."""
    scope = {}
    code = _COMPILED.get(step["source"])
    if code is None:
        code = _COMPILED[step["source"]] = compile(step["source"], "<course helper>", "exec")
    exec(code, scope)  # noqa: S102 - plans come from the grader
    name = step["name"]
    if name not in saved:
        saved[name] = namespace.get(name, _UNBOUND)
    namespace[name] = scope[name]


def run_case(steps, namespace):
    """Run one case's steps; a list of records ``{"label", "value"}`` or ``{"label", "raised", ...}``.

    A step that raises ends the case: the exception is its record (a case that expects a
    ``ValueError`` ends there by design). Names a "bind" step replaced are restored at the end.
    """
    env, records, saved = {}, [], {}
    try:
        for index, step in enumerate(steps):
            label = step.get("record") or f"step {index}"
            try:
                if step["op"] == "bind":
                    _bind(step, namespace, saved)
                    continue
                value = _step(step, env, namespace)
                if "as" in step:
                    env[step["as"]] = value
                if step.get("record"):
                    records.append({"label": label, "value": encode(value)})
            except Exception as err:  # noqa: BLE001 - the student's error is a record, not ours
                records.append({"label": label, **encode_raised(err)})
                break
    finally:
        for name, value in saved.items():
            if value is _UNBOUND:
                namespace.pop(name, None)
            else:
                namespace[name] = value
    return records


def run_plans(plans, namespace):
    """Records of every case of one test: a list (one entry per case) of record lists.

    Warnings the answer raises are silenced here, in both runners: nbgrader scores a test cell that
    writes to stderr 0, and a harmless warning must not cost a correct answer its points.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [run_case(steps, namespace) for steps in plans]


# -- the kernel side ------------------------------------------------------------------------------
_PLANS = {}


def install(plans_json):
    """Receive the plans of a notebook's tests (JSON text: {test id: [steps of each case]})."""
    _PLANS.update(json.loads(plans_json))


def check(test_id):
    """Run the plans of ``test_id`` on the notebook's namespace and send the records to the grader."""
    from IPython import get_ipython
    from IPython.display import display

    records = run_plans(_PLANS.get(test_id, []), get_ipython().user_ns)
    payload = json.dumps({"test": test_id, "cases": records})
    display({MIME: payload}, raw=True)


# -- decoding records (trusted side: the kernel may have sent anything) ----------------------------
MAX_DIMS = 32  # dimensions of one array
MAX_ELEMENTS = 2**27  # elements of one array (also bounded by the record's size, checked first)
MAX_NODES = 2_000_000  # values decoded per test (containers and scalars), unless a tighter budget is given


class BadRecords(ValueError):
    """Records that are not the data this format allows (the only exception :func:`decode_records` raises)."""


class Budget:
    """What decoding one test's records may still cost: values (nodes) and array elements.

    Checked before the work it bounds, so the cost of a hostile record is bounded by the budget, not by
    what it claims: the grading parent gives each test a budget of a small multiple of the reference's.
    """

    def __init__(self, nodes=MAX_NODES, elements=MAX_ELEMENTS):
        self.nodes, self.elements = int(nodes), int(elements)

    def spend(self, nodes=1, elements=0):
        self.nodes -= nodes
        self.elements -= elements
        if self.nodes < 0:
            raise BadRecords("the records hold more values than the reference's allow")
        if self.elements < 0:
            raise BadRecords("the records hold larger arrays than the reference's allow")


def _short(value, limit):
    """A str value, cut; anything else is malformed (never ``str()`` of a hostile structure)."""
    if type(value) is not str:
        raise BadRecords("a text field of the records is not a string")
    return value[:limit]


def _element_count(shape):
    """The element count of a validated shape, without overflow (Python ints, stopped past the bound)."""
    if type(shape) is not list or len(shape) > MAX_DIMS:
        raise BadRecords("malformed array shape in the records")
    count = 1
    for n in shape:
        if type(n) is not int or not 0 <= n <= MAX_ELEMENTS:
            raise BadRecords("malformed array shape in the records")
        count *= n
        if count > MAX_ELEMENTS:
            raise BadRecords("an array in the records is too large")
    return count


def _decode_array(obj, kind, budget):
    dtype, data = obj.get("dtype"), obj.get("data")
    if type(dtype) is not str or dtype not in NUMERIC_DTYPES or type(data) is not str:
        raise BadRecords("malformed array in the records")
    count = _element_count(obj.get("shape"))
    budget.spend(elements=count)
    nbytes = count * np.dtype(dtype).itemsize
    if len(data) != 4 * ((nbytes + 2) // 3):  # base64's length, known before decoding
        raise BadRecords("array data does not match its dtype and shape")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise BadRecords("array data is not base64") from None
    if len(raw) != nbytes:
        raise BadRecords("array data does not match its dtype and shape")
    arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(obj["shape"]).astype(dtype)
    torch_dtype = None
    if kind == "tensor":
        torch_dtype = obj.get("torch_dtype", dtype)
        torch_dtype = _short(torch_dtype, 20)
    requires_grad = obj.get("requires_grad", False)
    if type(requires_grad) is not bool:
        raise BadRecords("malformed tensor in the records")
    return Array(kind=kind, dtype=torch_dtype or dtype, value=arr[()] if kind == "scalar" else arr,
                 requires_grad=requires_grad if kind == "tensor" else False)


def _items(obj):
    items = obj.get("items")
    if type(items) is not list or len(items) > MAX_ITEMS:
        raise BadRecords("malformed container in the records")
    return items


def _data(obj, depth, budget):
    if depth > MAX_DEPTH:
        raise BadRecords("records nested too deeply")
    budget.spend()
    if obj is None or type(obj) in (bool, int, float):
        return obj
    if type(obj) is str:
        return obj[:MAX_TEXT]
    if type(obj) is list:
        if len(obj) > MAX_ITEMS:
            raise BadRecords("a list in the records is too long")
        return [_data(v, depth + 1, budget) for v in obj]
    if type(obj) is not dict:
        raise BadRecords(f"unexpected {type(obj).__name__} in the records")
    kind = obj.get("$")
    if type(kind) is not str:
        raise BadRecords("a value of unknown kind in the records")
    if kind in ("ndarray", "tensor", "scalar"):
        return _decode_array(obj, kind, budget)
    if kind == "tuple":
        return tuple(_data(v, depth + 1, budget) for v in _items(obj))
    if kind == "dict":
        out = {}
        for pair in _items(obj):
            if type(pair) is not list or len(pair) != 2:
                raise BadRecords("malformed dict in the records")
            key = _data(pair[0], depth + 1, budget)
            if not isinstance(key, (str, int, float, bool, type(None))):
                key = repr(key)[:MAX_TEXT]  # bounded: the key was decoded within the budget
            out[key] = _data(pair[1], depth + 1, budget)
        return out
    if kind == "torch_dtype":
        return Opaque(f"torch.{_short(obj.get('name'), 20)}")
    if kind == "opaque":
        return Opaque(_short(obj.get("type"), 200))
    raise BadRecords(f"unknown value kind {kind[:40]!r} in the records")


def decode_records(cases, budget=None):
    """Strictly decoded records of one test: a list (per case) of {label: value or Raised}.

    Raises :class:`BadRecords` and nothing else for anything that is not this format's data: types and
    sizes are checked before any arithmetic, and ``budget`` (a :class:`Budget`) bounds the work.
    """
    budget = budget or Budget()
    if type(cases) is not list or len(cases) > MAX_ITEMS:
        raise BadRecords("records must be a list of cases")
    decoded = []
    for records in cases:
        if type(records) is not list or len(records) > MAX_ITEMS:
            raise BadRecords("the records of a case must be a list")
        budget.spend(len(records) + 1)
        case = {}
        for record in records:
            if type(record) is not dict or type(record.get("label")) is not str:
                raise BadRecords("a record without a label")
            label = record["label"][:200]
            if label in case:
                raise BadRecords(f"record {label!r} appears twice")
            if "raised" in record:
                types = record["raised"]
                if type(types) is not list or len(types) > MAX_ITEMS or not all(type(t) is str for t in types):
                    raise BadRecords("malformed exception record")
                case[label] = Raised(types=tuple(t[:100] for t in types[:10]),
                                     message=_short(record.get("message", ""), MAX_TEXT))
            else:
                case[label] = _data(record.get("value"), 0, budget)
        decoded.append(case)
    return decoded


def cost(value):
    """(values, array elements) of raw records (JSON data): what :class:`Budget` counts, for a reference."""
    if type(value) is list:
        parts = [cost(v) for v in value]
        return 1 + sum(p[0] for p in parts), sum(p[1] for p in parts)
    if type(value) is dict:
        if value.get("$") in ("ndarray", "tensor", "scalar") and type(value.get("shape")) is list:
            return 1, int(np.prod(value["shape"], dtype=object)) if value["shape"] else 1
        parts = [cost(v) for v in value.values()]
        return 1 + sum(p[0] for p in parts), sum(p[1] for p in parts)
    return 1, 0


def roundtrip(cases):
    """What the trusted reader gets from records produced in this process (reference, mistakes)."""
    return decode_records(json.loads(json.dumps(cases)))
