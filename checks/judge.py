"""Trusted comparisons: a student's records against the reference's, and the message a student reads.

A judge raises :class:`Fail` with a message that says what was checked, what was expected, what
came back and the usual mistake behind the difference. Judges see decoded records only
(:mod:`checks.probe`): numpy arrays, numbers, strings, :class:`~checks.probe.Raised`.
"""

import numpy as np

from checks.probe import Array, Opaque, Raised
from checks.words import N_

QUOTED = 6  # arrays of at most this many values are quoted whole in a message (expected and got)


class Fail(AssertionError):
    """A check failed; ``str(err)`` is the message for the student."""


def _short(value, limit=6):
    """A few numbers of an array, for a message (never the whole hidden output)."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _num(arr[()])
    flat = arr.ravel()
    shown = ", ".join(_num(v) for v in flat[:limit])
    if arr.size > limit:
        return N_(f"[{shown}, ... ({arr.size} values)] of shape {tuple(arr.shape)}")
    return N_(f"[{shown}] of shape {tuple(arr.shape)}")


def _num(v):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.10g}"
    return f"{float(v):.10g}"


def describe(value):
    """A short description of a recorded value, for messages."""
    if isinstance(value, Raised):
        return N_(f"raised {value.name}: {value.message[:200]}")
    if isinstance(value, Array):
        kind = {"tensor": N_("tensor"), "ndarray": N_("array"), "scalar": N_("number")}[value.kind]
        return N_(f"{kind} {_short(value.value)} (dtype {value.dtype})")
    if isinstance(value, Opaque):
        return N_(f"an object of type {value.type_name}")
    if isinstance(value, (list, tuple)):
        return N_(f"a {type(value).__name__} of {len(value)} item(s)")
    return repr(value)[:200]


def numbers(value, what):
    """``value`` as a float64 (or complex, or bool) numpy array, or Fail saying what came back."""
    if isinstance(value, Raised):
        raise Fail(N_(f"{what}: raised {value.name}: {value.message[:300]}"))
    if isinstance(value, Array):
        return np.asarray(value.value)
    if isinstance(value, Opaque) or value is None or isinstance(value, (str, dict)):
        raise Fail(N_(f"{what}: expected numbers, got {describe(value)}"))
    try:
        arr = np.asarray([numbers(v, what) for v in value] if isinstance(value, (list, tuple)) else value,
                         dtype=float)
    except (TypeError, ValueError):
        raise Fail(N_(f"{what}: expected numbers, got {describe(value)}")) from None
    return arr


def scalar(value):
    """A recorded number as a Python float (a bool or None stays as it is; anything else is returned as is)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Array) and value.value.size == 1:
        return float(value.value.reshape(()))
    return value


def close(got, expected, what, hint="", rtol=1e-10, atol=1e-12, shape=True):
    """``got`` equals ``expected`` within ``rtol``/``atol`` (NaN only where expected has NaN)."""
    exp = numbers(expected, what)
    val = numbers(got, what)
    if shape and val.shape != exp.shape:
        raise Fail(_join(N_(f"{what}: expected shape {tuple(exp.shape)}, got shape {tuple(val.shape)}"), hint))
    try:
        val_b, exp_b = np.broadcast_arrays(val.astype(complex if np.iscomplexobj(val) else float),
                                           exp.astype(complex if np.iscomplexobj(exp) else float))
    except ValueError:
        shapes = N_(f"{what}: expected shape {tuple(exp.shape)}, got shape {tuple(val.shape)}")
        raise Fail(_join(shapes, hint)) from None
    both_nan = np.isnan(val_b) & np.isnan(exp_b)
    ok = both_nan | (np.abs(val_b - exp_b) <= atol + rtol * np.abs(exp_b))
    ok &= ~(np.isinf(exp_b) ^ np.isinf(val_b)) | both_nan
    if np.all(ok):
        return
    bad = np.argwhere(~ok) if val_b.ndim else np.zeros((1, 0), dtype=int)
    first = tuple(int(i) for i in bad[0])
    diff = np.where(ok, 0.0, np.abs(val_b - exp_b))
    nan_note = N_(" (got NaN)") if np.isnan(val_b[first]) and not np.isnan(exp_b[first]) else ""
    where = N_(f" at index {first}") if first else ""
    lines = [N_(f"{what}: {int((~ok).sum())} of {ok.size} value(s) differ{where}: expected {_num(exp_b[first])}, "
             f"got {_num(val_b[first])}{nan_note}")]
    if ok.size <= QUOTED:  # a small case is read whole; of a larger one, the first difference is enough
        lines.append(N_(f"  expected {_short(exp_b)}"))
    lines.append(N_(f"  got      {_short(val_b)}"))
    if np.isfinite(diff).all() and ok.size > 1:
        lines.append(N_(f"  largest difference {float(np.nanmax(diff)):.3g} (tolerance rtol={rtol:g}, atol={atol:g})"))
    low = _low_precision(got)
    if low and not _low_precision(expected):
        lines.append(N_(f"  your result has dtype {low} (about {7 if low == 'float32' else 3} significant digits); the "
                     "expected values are float64: compute in float64 (np.asarray(x, dtype=float))"))
    raise Fail(_join("\n".join(lines), hint))


def _low_precision(value):
    """The dtype name of a float32 / float16 (or bfloat16) recorded array, else None."""
    if isinstance(value, Array) and value.dtype in ("float32", "float16", "bfloat16", "complex64"):
        return value.dtype
    return None


def equal(got, expected, what, hint=""):
    """Exact equality of plain values (bools, ints, strings, tuples of them)."""
    if isinstance(got, Raised):
        raise Fail(_join(N_(f"{what}: raised {got.name}: {got.message[:300]}"), hint))
    if _plain(got) != _plain(expected):
        raise Fail(_join(N_(f"{what}: expected {describe(expected)}, got {describe(got)}"), hint))


def _plain(value):
    if isinstance(value, Array):
        return value.value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def fail(what, message, hint=""):
    """Raise :class:`Fail` with ``what: message`` and the hint on the next line."""
    raise Fail(_join(f"{what}: {message}", hint))


def raises(got, exception, what, hint=""):
    """The step raised ``exception`` (a class name, subclasses accepted)."""
    if not isinstance(got, Raised):
        raise Fail(_join(N_(f"{what}: must raise {exception}, but returned {describe(got)}"), hint))
    if not got.is_a(exception):
        raise Fail(_join(N_(f"{what}: must raise {exception}, but raised {got.name}: {got.message[:200]}"), hint))


def dtype_is(got, dtype, what, hint=""):
    if isinstance(got, Raised):
        raise Fail(_join(N_(f"{what}: raised {got.name}: {got.message[:300]}"), hint))
    actual = got.dtype if isinstance(got, Array) else type(got).__name__
    if actual != dtype:
        raise Fail(_join(N_(f"{what}: expected dtype {dtype}, got {actual}"), hint))


def is_tensor(got, what, hint=""):
    if isinstance(got, Raised):
        raise Fail(_join(N_(f"{what}: raised {got.name}: {got.message[:300]}"), hint))
    if not (isinstance(got, Array) and got.kind == "tensor"):
        raise Fail(_join(N_(f"{what}: expected a torch tensor, got {describe(got)}"), hint))


def _join(message, hint):
    return f"{message}\n{hint}" if hint else message
