"""Chapter 5: dropout. Graded: inverted dropout forward and backward, a Dropout module, channel-wise dropout
(Dropout2d / Dropout1d), Monte Carlo dropout prediction, and a judgment part: McNemar's exact test of two networks
scored on the same images (random paired outcomes drawn per batch seed).

Random answers are judged by what the contract fixes exactly (shapes, dtypes, values 0 or 1/(1-p), out == x * mask,
eval and p in {0, 1}, the generator, the caller's x untouched) and by frequencies: a kept fraction or a pair
statistic estimated from n independent draws must lie within 5 standard errors of its expectation (a false failure
has probability about 6e-7 per check, and every draw is seeded, so a verdict is reproducible). Every case that draws
from torch's default generator seeds it first, so that answers (and catalogued mistakes) that ignore the generator
argument are reproducible too. Inputs avoid p = 0.5 (the drop and keep conventions coincide there) and zeros in x (a
dropped entry must be visible). Later answers never get their inputs from earlier ones: dropout_backward receives
masks made here, the Dropout module is self-contained, mc_dropout_predict gets a torch.nn model built from data.
"""

import math

import numpy as np

from checks import judge as J
from checks.probe import Array, Raised
from checks.spec import (
    Case,
    Chapter,
    Estimate,
    Test,
    attribute,
    call,
    function_case,
    generator,
    let,
    library,
    method,
    module,
    record,
    seeded,
    var,
)
from checks.tensors import lazy_torch, seeded_tensor, to_numpy
from checks.words import N_

N_SE = 5  # standard errors allowed for every frequency check (see the module docstring)
STATS_MIN = 1000  # frequency checks only where there are enough draws to be informative


# -- shared judges ---------------------------------------------------------------------------------
def _pair(got, what, hint=""):
    """The (out, mask) tensors of a recorded result, or Fail."""
    if isinstance(got, Raised):
        J.fail(what, f"raised {got.name}: {got.message[:300]}", hint)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        J.fail(what, f"must return the tuple (out, mask), got {J.describe(got)}")
    for name, value in zip(("out", "mask"), got, strict=True):
        J.is_tensor(value, f"{what}: {name}")
    return got


def _unchanged(got_after, original, what, fn):
    J.close(got_after, original, f"{what}: x after the call", rtol=0, atol=0,
            hint=N_(f"{fn} modified the caller's x in place (x *= mask?): return x * mask, a new tensor, and never "
                 "write into x"))


def _dtype(value, dtype, what, name):
    if value.dtype != dtype:
        extra = (" torch.rand, torch.ones and torch.zeros create float32 unless you pass dtype=x.dtype (or use "
                 "torch.ones_like(x) / torch.rand_like(x))" if value.dtype == "float32" else "")
        J.fail(what, f"{name} must have the dtype of x ({dtype}), got {value.dtype}.{extra}")


def _no_nan(values, what, p, name="the mask"):
    if np.isnan(values).any():
        J.fail(what, f"{name} contains NaN (p = {p}): for p = 1 every unit is dropped, so {name} is all zeros, "
                    "not NaN; do not divide by 1 - p = 0 (treat p = 1 as a special case)")


def _keep_rate(kept, p, what, unit):
    """The fraction of kept draws is 1 - p within N_SE standard errors sqrt(p (1 - p) / n)."""
    n, q = kept.size, 1.0 - p
    se = math.sqrt(p * q / n)
    fraction = float(kept.mean())
    if abs(fraction - q) >= N_SE * se:
        usual = (" A kept fraction near p is what p as the keep probability gives (the CS231n convention)."
                 if abs(fraction - p) < N_SE * se else "")
        J.fail(what, f"p = {p} is the DROP probability, so a fraction 1 - p = {q:.4g} of the {n} {unit} must be kept "
                    f"(within {N_SE} standard errors, {N_SE * se:.4f}); got {fraction:.4f}.{usual}")


def _scale(mask, p, what, rtol):
    """Every kept mask entry equals 1 / (1 - p); names the usual wrong scale."""
    kept = np.unique(mask[mask != 0])
    if kept.size == 0:
        J.fail(what, f"every mask entry is 0 for p = {p}: only p = 1 drops everything")
    s = 1.0 / (1.0 - p)
    bad = kept[~np.isclose(kept, s, rtol=rtol, atol=0)]
    if bad.size == 0:
        return
    v = float(bad[0])
    if np.isclose(v, 1.0, rtol=1e-6):
        usual = ("kept entries equal to 1 mean no rescaling: inverted dropout divides the survivors by 1 - p so "
                 "that E[out] = x")
    elif np.isclose(v, 1.0 / p, rtol=1e-6):
        usual = ("kept entries of 1/p mean scaling by p instead of 1 - p: p is the DROP probability; dividing by p "
                 "treats it as the keep probability (the CS231n convention)")
    elif rtol < 1e-6 and v == float(np.float32(s)):
        usual = ("the scale was rounded to float32 (torch.where or torch.tensor with Python numbers, torch.rand "
                 "without dtype, create float32): compute the mask in the dtype of x")
    elif np.isclose(v, 1.0 - p, rtol=1e-6):
        usual = ("kept entries of 1 - p mean multiplying by 1 - p (the test-time rule of the original paper) during "
                 "training; inverted dropout divides by 1 - p instead")
    else:
        usual = "the kept entries must be scaled by exactly 1/(1-p)"
    J.fail(what, f"mask entries must be 0 or 1/(1-p) = {s:.10g}, got a kept entry {v:.10g}: {usual}")


def _independent(kept2d, p, what, rows, cols, per):
    """Two distinct draws are both kept with probability f_a f_b if independent (f: their kept fractions, so that a
    wrong keep rate is left to its own check); se sqrt(e(1-e)/pairs) with e = f_a f_b."""
    for name, a, b in [(rows, kept2d[0::2], kept2d[1::2]), (cols, kept2d[:, 0::2], kept2d[:, 1::2])]:
        m = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        a, b = a[: m[0], : m[1]], b[: m[0], : m[1]]
        if a.size < STATS_MIN // 2:
            continue
        both, expected = float((a & b).mean()), float(a.mean()) * float(b.mean())
        if not 0.0 < expected < 1.0:
            continue
        se = math.sqrt(expected * (1 - expected) / a.size)
        if abs(both - expected) >= N_SE * se:
            J.fail(what, f"draws must be independent: two different {name} are both kept with probability "
                        f"{expected:.4f} (the product of their kept fractions; (1-p)^2 = {(1 - p)**2:.4f} at the "
                        f"right rate), within {N_SE * se:.4f}, got {both:.4f} (is one mask shared across {name}?): "
                        f"draw one random number per {per}")


def _raising_case(fn, *args, seed, hint, **kwargs):
    return seeded(seed, function_case(fn, *args, hint=hint, **kwargs))


# -- what the diagnosis compares of random masks (another answer draws other numbers) ------------------------
def _array(value):
    return np.asarray(value.value, dtype=np.float64) if isinstance(value, Array) else None


def _mask_quantities(out, mask, x, p, prefix="", pairs=None):
    """Facts and estimates of one random dropout call: dtypes and shapes, the kept share (an estimate with its
    standard error), the values kept entries are scaled to, whether out is x * mask, NaN; ``pairs``: the shape to
    test independence in (both-kept rates of neighbouring rows and columns)."""
    found = {}
    for name, value in (("out", out), ("mask", mask)):
        if isinstance(value, Array):
            found[f"{prefix}{name} dtype"] = value.dtype
            found[f"{prefix}{name} kind"] = value.kind
            found[f"{prefix}{name} shape"] = tuple(value.value.shape)
    m = _array(mask)
    if m is None or m.size == 0:
        return found
    kept = (m != 0) & ~np.isnan(m)
    n = kept.size
    found[f"{prefix}mask has NaN"] = bool(np.isnan(m).any())
    found[f"{prefix}kept share"] = Estimate(float(kept.mean()), math.sqrt(max(p * (1 - p), 1 / n) / n))
    values = np.unique(np.round(m[kept], 12)) if kept.any() else np.zeros(0)
    found[f"{prefix}kept values"] = values[:4] if values.size <= 4 else ("many", values.size)
    o = _array(out)
    if o is not None and x is not None and o.shape == np.broadcast_shapes(x.shape, m.shape):
        found[f"{prefix}out is x * mask"] = bool(np.allclose(o, x * m, rtol=1e-6, atol=0, equal_nan=True))
    if pairs is not None and kept.size == math.prod(pairs):
        grid = kept.reshape(pairs)
        for axis, (a, b) in (("rows", (grid[0::2], grid[1::2])), ("columns", (grid[:, 0::2], grid[:, 1::2]))):
            rows, cols = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
            both = a[:rows, :cols] & b[:rows, :cols]
            if both.size >= STATS_MIN // 2:
                q2 = (1 - p) ** 2
                found[f"{prefix}both kept, neighbouring {axis}"] = Estimate(float(both.mean()),
                                                                         math.sqrt(q2 * (1 - q2) / both.size))
    return found


# -- dropout_forward -------------------------------------------------------------------------------
def _forward_case(label, seed, x, p, *, gseed, training=True, stats=False, grad=False, repeat=None,
                  expectation=False, independence=None):
    """One call of dropout_forward on ``x`` (data, or a small base tensor repeated in the kernel: ``repeat``)."""
    steps = [library("torch.manual_seed", seed), let("x_base" if repeat else "x", x)]
    full = x.repeat(*repeat) if repeat else x
    if repeat:
        steps.append(method("x_base", "repeat", *repeat, save="x"))
    kwargs = {} if training else {"training": False}
    steps.append(call("dropout_forward", var("x"), p, generator=generator(gseed), save="result", record="result",
                      **kwargs))
    if not repeat:
        steps.append(record("x after", var("x")))
    if grad:
        steps += [let("out", var("result", 0)), method("out", "sum", save="total"), method("total", "backward"),
                  attribute("x", "grad", record="x.grad")]
    x_np, dtype = to_numpy(full), str(full.dtype).replace("torch.", "")
    rtol = 1e-6 if dtype == "float32" else 1e-13  # float32: one rounding of 1/(1-p) or of the product

    def judge(got, expected):
        out, mask = _pair(got["result"], label)
        if not repeat:
            _unchanged(got["x after"], to_numpy(x), label, "dropout_forward")
        _dtype(mask, dtype, label, "the mask")
        _dtype(out, dtype, label, "out")
        out, mask = J.numbers(out, label), J.numbers(mask, label)
        if mask.shape != x_np.shape or out.shape != x_np.shape:
            J.fail(label, f"out and mask must have the shape of x {x_np.shape}, got {out.shape} and {mask.shape}: "
                         "one random number per entry of x (torch.rand(x.shape, ...))")
        if not training or p == 0.0:
            what = "training=False" if not training else "p = 0"
            J.close(mask, np.ones_like(x_np), f"{label}: mask", rtol=0, atol=0,
                    hint=N_(f"{what}: the mask must be all ones (no dropping at evaluation time, no scaling)"))
            J.close(out, x_np, f"{label}: out", rtol=0, atol=0,
                    hint=N_(f"{what}: dropout is the identity (no dropping at evaluation time, no scaling by 1 - p)"))
            return
        _no_nan(mask, label, p)
        if p == 1.0:
            J.close(mask, np.zeros_like(x_np), f"{label}: mask", rtol=0, atol=0,
                    hint=N_("p = 1 drops every unit: the mask is all zeros"))
            J.close(out, np.zeros_like(x_np), f"{label}: out", rtol=0, atol=0,
                    hint=N_("p = 1 drops every unit: out is all zeros, not NaN"))
            return
        J.close(out, x_np * mask, f"{label}: out against x * mask", rtol=rtol, atol=0,
                hint=N_("out must equal x * mask, with the very mask you return (including its 1/(1-p) scale; is the "
                     "mask you return the 0/1 keep pattern?)"))
        if stats and independence:  # first: a mask shared across rows has too few draws for its kept fraction
            _independent((mask != 0).reshape(independence), p, label, "rows (samples)", "columns (features)",
                         "entry of x (torch.rand(x.shape, ...))")
        if stats:
            _keep_rate(mask != 0, p, label, "entries")
        _scale(mask, p, label, rtol)
        if expectation:
            # out_j = x_j m_j with E[m] = 1, Var[m] = p / (1 - p): the column mean of T draws has
            # standard error |x_j| sqrt(p / ((1 - p) T)).
            T = x_np.shape[0]
            z = (out.mean(axis=0) - x_np[0]) / (np.abs(x_np[0]) * math.sqrt(p / ((1 - p) * T)))
            if np.abs(z).max() >= N_SE:
                J.fail(label, f"the average of {T} dropout outputs must equal the input "
                             f"{np.round(x_np[0], 4).tolist()} "
                             f"within {N_SE} standard errors (inverted dropout keeps the expectation), got "
                             f"{np.round(out.mean(axis=0), 4).tolist()}")
        if grad:
            g = got["result"][0]
            if not g.requires_grad:
                J.fail(label, "out does not require grad although x does: gradients must flow from out to x "
                             "(no .detach(), torch.no_grad() or numpy in dropout_forward)")
            J.close(got["x.grad"], mask, f"{label}: the gradient of out.sum() with respect to x", rtol=rtol,
                    atol=0, hint=N_("autograd through out = x * mask gives the mask"))

    if not training or p in (0.0, 1.0):
        return Case(label=label, steps=steps, judge=judge)

    def quantities(got):
        result = got["result"]
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {}
        out, mask = result
        found = _mask_quantities(out, mask, x_np, p, pairs=independence)
        if not repeat and isinstance(got["x after"], Array):
            found["x changed"] = not np.array_equal(_array(got["x after"]), x_np)
        if grad and isinstance(out, Array):
            found["out requires grad"] = out.requires_grad
            g, m = _array(got["x.grad"]), _array(mask)
            found["x.grad is the mask"] = g is not None and m is not None and g.shape == m.shape and \
                bool(np.allclose(g, m, rtol=1e-6, atol=0))
        return found

    return Case(label=label, steps=steps, judge=judge, random=("result", "x after", "x.grad"), quantities=quantities)


def _generator_case(seed):
    """Same seed, same mask; one generator used twice, two masks; nothing else drawn from."""
    torch = lazy_torch()
    label = "dropout_forward(x of 2000 ones, 0.4, generator=...) called four times"
    steps = [library("torch.manual_seed", seed), let("x_base", torch.ones(1, dtype=torch.float64)),
             method("x_base", "repeat", 2000, save="x"),
             call("dropout_forward", var("x"), 0.4, generator=generator(5), record="seed 5, first"),
             call("dropout_forward", var("x"), 0.4, generator=generator(5), record="seed 5, again"),
             let("g", generator(7)),
             call("dropout_forward", var("x"), 0.4, generator=var("g"), record="one generator, first call"),
             call("dropout_forward", var("x"), 0.4, generator=var("g"), record="one generator, second call")]

    def judge(got, expected):
        masks = {k: J.numbers(_pair(got[k], f"{label}: {k}")[1], label) for k in
                 ("seed 5, first", "seed 5, again", "one generator, first call", "one generator, second call")}
        if not np.array_equal(masks["seed 5, first"], masks["seed 5, again"]):
            J.fail(label, "two calls with generators seeded alike (torch.Generator().manual_seed(5)) gave different "
                         "masks: draw the random numbers from the generator argument (torch.rand(x.shape, "
                         "generator=generator, dtype=x.dtype)), not from torch's global random state")
        if np.array_equal(masks["one generator, first call"], masks["one generator, second call"]):
            J.fail(label, "two calls with the same generator object gave the same mask: every call must draw new "
                         "numbers from the generator (which advances it); do not re-seed it or cache a mask")

    return Case(label=label, steps=steps, judge=judge, random=GENERATOR_RUNS, quantities=_generator_quantities)


GENERATOR_RUNS = ("seed 5, first", "seed 5, again", "one generator, first call", "one generator, second call")


def _generator_quantities(got):
    masks = {}
    for run in GENERATOR_RUNS:
        result = got[run]
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[1], Array)):
            return {}
        masks[run] = result[1].value
    first, again, one, two = (masks[run] for run in GENERATOR_RUNS)
    return {"same seed, same mask": first.shape == again.shape and bool(np.array_equal(first, again)),
            "one generator, two masks": not (one.shape == two.shape and np.array_equal(one, two))}


def dropout_forward_cases(draw):
    seed_ = draw.seed  # hidden inputs: the declared seed, mixed with the batch's
    torch = lazy_torch()
    x_visible = torch.arange(1.0, 21.0, dtype=torch.float64).reshape(4, 5) / 4
    yield _forward_case("dropout_forward(x of shape (4, 5), 0.3, generator=generator(0)) [the visible case]", 1,
                        x_visible, 0.3, gseed=0)
    x_grad = seeded_tensor(seed_(10), (6, 5), shift=1.5).requires_grad_(True)
    yield _forward_case("dropout_forward(x of shape (6, 5) requiring grad, 0.3)", 2, x_grad, 0.3, gseed=seed_(11),
                        grad=True)
    ones = torch.ones(1, dtype=torch.float64)
    yield _forward_case("dropout_forward(10000 ones, 0.1)", 3, ones, 0.1, gseed=seed_(12), repeat=(10_000,),
                        stats=True, independence=(100, 100))
    yield _forward_case("dropout_forward(x of shape (100, 120), 0.35)", 4,
                        seeded_tensor(seed_(13), (100, 120), shift=2.0), 0.35, gseed=seed_(14), stats=True,
                        independence=(100, 120))
    yield _forward_case("dropout_forward(x of shape (8, 30, 50), 0.8)", 5,
                        seeded_tensor(seed_(15), (8, 30, 50), shift=-1.5), 0.8, gseed=seed_(16), stats=True,
                        independence=(8, 1500))
    yield _forward_case("dropout_forward(float32 x of shape (120, 100), 0.25)", 6,
                        seeded_tensor(seed_(17), (120, 100), shift=1.0, dtype="float32"), 0.25, gseed=seed_(18),
                        stats=True, independence=(120, 100))
    row = torch.tensor([[1.0, -2.0, 0.5, 3.0, -0.75, 1.5]], dtype=torch.float64)
    yield _forward_case("dropout_forward(2500 copies of a row of 6 values, 0.6): E[out] = x", 7, row, 0.6,
                        gseed=seed_(19), repeat=(2500, 1), stats=True, expectation=True, independence=(2500, 6))
    for i, (dtype, shape) in enumerate([("float64", (5, 4)), ("float32", (3, 7))]):
        x = seeded_tensor(20 + i, shape, shift=0.5, dtype=dtype)
        yield _forward_case(f"dropout_forward({dtype} x, 0.3, training=False)", 30 + i, x, 0.3, gseed=1,
                            training=False)
        yield _forward_case(f"dropout_forward({dtype} x, 0.0)", 32 + i, x, 0.0, gseed=1)
        yield _forward_case(f"dropout_forward({dtype} x, 1.0)", 34 + i, x, 1.0, gseed=1)
    yield _generator_case(40)
    x = seeded_tensor(41, (3, 4), shift=1.0)
    for p in (1.5, -0.1):
        yield _raising_case("dropout_forward", x, p, seed=42, hint=N_(f"p = {p} must raise ValueError: a probability "
                                                                    "lies in [0, 1]"))


# -- dropout_backward ------------------------------------------------------------------------------
BACKWARD_HINT = (N_("dx = grad_out * mask, with the very mask of the forward pass (not a new random one) and its "
                 "1/(1-p) scale (grad_out * (mask != 0) leaves the scale out; dividing by the mask inverts it)"))


def _backward_case(seed, grad_out, mask, rtol, label):
    """dropout_backward(grad_out, mask) against the reference; the diagnosis compares where the gradient is zero and
    what the kept entries are multiplied by (an answer that draws a new mask draws other numbers)."""
    case = seeded(seed, function_case("dropout_backward", grad_out, mask, hint=BACKWARD_HINT, rtol=rtol, atol=0,
                                      label=label))
    g, m = to_numpy(grad_out), to_numpy(mask)

    def quantities(got):
        dx = _array(got["result"])
        if dx is None or dx.shape != g.shape:
            return {}
        nonzero = g != 0
        ratios = np.unique(np.round(dx[nonzero] / g[nonzero], 9))
        return {"zero where the mask is zero": bool(np.all(dx[m == 0] == 0)),
                "zero exactly where the mask is zero": bool(np.array_equal(dx[nonzero] == 0, m[nonzero] == 0)),
                "dx / grad_out values": ratios[:4] if ratios.size <= 4 else ("many", ratios.size)}

    return Case(label=case.label, steps=case.steps, judge=case.judge, random=("result",), quantities=quantities)


def dropout_backward_cases(draw):
    seed_ = draw.seed  # hidden inputs: the declared seed, mixed with the batch's
    torch = lazy_torch()
    from solutions.dropout import dropout_forward as reference_forward

    mask = torch.tensor([[0.0, 2.0, 2.0], [2.0, 0.0, 2.0]], dtype=torch.float64)
    grad_out = torch.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=torch.float64)
    yield _backward_case(50, grad_out, mask, 0, "dropout_backward(grad_out, mask) [the visible case, p = 0.5]")
    for i, (shape, p, dtype) in enumerate([((6, 4), 0.25, torch.float64), ((3, 5, 7), 0.6, torch.float64),
                                           ((40,), 0.9, torch.float64), ((10, 8), 0.3, torch.float32)]):
        x = seeded_tensor(seed_(300 + i), shape, shift=0.5).to(dtype)
        _, mask = reference_forward(x, p, generator=torch.Generator().manual_seed(seed_(500 + i)))  # data
        grad_out = seeded_tensor(seed_(400 + i), shape, shift=-0.3).to(dtype)
        yield _backward_case(51 + i, grad_out, mask, 1e-6 if dtype == torch.float32 else 1e-14,
                             f"dropout_backward(grad_out, mask) for a mask of shape {shape}, p = {p}, {dtype}")


# -- Dropout (module) ------------------------------------------------------------------------------
MODES = ("train", "train", "eval", "train", "eval", "train")


def _module_sequence_case(seed, p, x):
    label = f"Dropout({p}) on x of shape {tuple(x.shape)} over the calls {', '.join(MODES)}"
    x_np = to_numpy(x)
    steps = [library("torch.manual_seed", seed), let("x", x), call("Dropout", p, save="layer"),
             attribute("layer", "p", record="p"), attribute("layer", "training", record="training when created")]
    for i, mode in enumerate(MODES):
        steps += [method("layer", "train", mode == "train"),
                  method("layer", "__call__", var("x"), record=f"call {i + 1} ({mode})")]
    steps += [record("x after", var("x")), let("leaf", x.clone().requires_grad_(True)), method("layer", "train"),
              method("layer", "__call__", var("leaf"), save="out", record="training call on a leaf"),
              method("out", "sum", save="total"), method("total", "backward"),
              attribute("leaf", "grad", record="leaf.grad")]

    def judge(got, expected):
        J.close(got["p"], p, f"{label}: self.p", hint=N_("Dropout(p) stores the drop probability as self.p"))
        J.equal(got["training when created"], True, f"{label}: training mode of a new layer",
                hint=N_("a new module is in training mode: call super().__init__() and leave self.training alone"))
        outputs = []
        for i, mode in enumerate(MODES):
            what = f"{label}: call {i + 1} ({mode})"
            out = got[f"call {i + 1} ({mode})"]
            J.is_tensor(out, what)
            values = J.numbers(out, what)
            if mode == "eval":
                J.close(values, x_np, what, rtol=0, atol=0,
                        hint=N_("in evaluation mode (.eval()) the layer returns x unchanged: no dropping "
                                "and no scaling "
                             "by 1 - p at evaluation time (self.training is False after .eval())"))
                continue
            if values.shape != x_np.shape:
                J.fail(what, f"expected the shape of x {x_np.shape}, got {values.shape}")
            _no_nan(values, what, p, "the output")
            kept = values != 0
            _keep_rate(kept, p, what, "entries")
            J.close(values[kept], x_np[kept] / (1 - p), f"{what}: kept entries", rtol=1e-12, atol=0,
                    hint=N_("in training mode a kept entry is x / (1 - p), as in nn.Dropout (p is the "
                            "DROP probability)"))
            if any(np.array_equal(values, other) for other in outputs):
                J.fail(what, "two training calls returned the same output: every training call must draw a fresh "
                            "mask (different masks at every call), not reuse one drawn once")
            outputs.append(values)
        _unchanged(got["x after"], x_np, label, "Dropout")
        out = got["training call on a leaf"]
        J.is_tensor(out, f"{label}: training call on x requiring grad")
        if not out.requires_grad:
            J.fail(label, "the output does not require grad: gradients must flow from the output to x through "
                         "autograd (no torch.no_grad(), .detach() or numpy in forward)")
        J.close(got["leaf.grad"], J.numbers(out, label) / x_np, f"{label}: gradient of sum(layer(x)) w.r.t. x",
                rtol=1e-12, atol=0, hint=N_("the gradient of the output with respect to x is the mask of that call "
                                         "(0 or 1/(1-p)): gradients must flow through autograd"))

    train_calls = [f"call {i + 1} ({mode})" for i, mode in enumerate(MODES) if mode == "train"]

    def quantities(got):
        found = {}
        outputs = []
        for name in train_calls:
            out = _array(got[name])
            if out is None or out.shape != x_np.shape:
                return found
            outputs.append(out)
            found.update(_mask_quantities(got[name], None, None, p, prefix=f"{name}: "))
            ratio = np.where(x_np != 0, out / np.where(x_np != 0, x_np, 1.0), 0.0)
            found.update({k.replace("mask", "out / x"): v for k, v in
                          _mask_quantities(None, Array("tensor", "float64", ratio), None, p, prefix=f"{name}: ").items()
                          if "kind" not in k})
        found["a fresh mask at every training call"] = len({o.tobytes() for o in outputs}) == len(outputs)
        leaf = got["training call on a leaf"]
        if isinstance(leaf, Array):
            found["output requires grad"] = leaf.requires_grad
            grad = _array(got["leaf.grad"])
            found["grad is out / x"] = grad is not None and grad.shape == x_np.shape and \
                bool(np.allclose(grad, leaf.value / x_np, rtol=1e-9, atol=0))
        return found

    return Case(label=label, steps=steps, judge=judge, random=(*train_calls, "training call on a leaf", "leaf.grad"),
                quantities=quantities)


def _module_edge_case(seed, p, x):
    label = f"Dropout({p}) in training mode"
    x_np = to_numpy(x)
    steps = [library("torch.manual_seed", seed), let("x", x), call("Dropout", p, save="layer"),
             method("layer", "__call__", var("x"), record="out")]

    def judge(got, expected):
        J.is_tensor(got["out"], label)
        if p == 0.0:
            J.close(got["out"], x_np, label, rtol=0, atol=0, hint=N_("p = 0 drops nothing: the output is x"))
        else:
            _no_nan(J.numbers(got["out"], label), label, p, "the output")
            J.close(got["out"], np.zeros_like(x_np), label, rtol=0, atol=0,
                    hint=N_("p = 1 drops every unit: the output is all zeros (not NaN: do not divide by 1 - p = 0)"))

    return Case(label=label, steps=steps, judge=judge)


def _module_default_case():
    label = "Dropout() with the default p"
    steps = [call("Dropout", save="layer"), attribute("layer", "p", record="p")]

    def judge(got, expected):
        J.close(got["p"], 0.5, label, hint=N_("the default drop probability is p = 0.5, as in torch.nn.Dropout"))

    return Case(label=label, steps=steps, judge=judge)


def dropout_module_cases(draw):
    seed_ = draw.seed  # hidden inputs: the declared seed, mixed with the batch's
    for p in (1.5, -0.1):
        yield _raising_case("Dropout", p, seed=60, hint=N_(f"Dropout({p}) must raise ValueError when the layer is "
                                                        "created, as torch.nn.Dropout does"))
    yield _module_default_case()
    yield _module_sequence_case(seed_(61), 0.25, seeded_tensor(seed_(62), (100, 60), shift=0.25, uniform=True))
    yield _module_sequence_case(seed_(63), 0.8, seeded_tensor(seed_(64), (10, 20, 30), shift=0.5, uniform=True))
    yield _module_edge_case(65, 1.0, seeded_tensor(66, (5, 6), shift=1.0))
    yield _module_edge_case(67, 0.0, seeded_tensor(68, (5, 6), shift=1.0))


# -- dropout2d_forward -----------------------------------------------------------------------------
def _mask_shape_hint(got_shape, x_shape):
    n, c = x_shape[:2]
    ones = (1,) * (len(x_shape) - 2)
    if tuple(got_shape) == tuple(x_shape):
        return ("a mask of the shape of x drops single entries (that is dropout_forward); channel-wise dropout draws "
                "one number per (sample, channel) and keeps or drops the whole feature map")
    if tuple(got_shape) == (1, c, *ones):
        return "a mask shared by all samples: draw one number per (sample, channel), not one per channel"
    if tuple(got_shape) == (n, 1, *ones):
        return "a mask that drops whole samples: draw one number per (sample, channel), not one per sample"
    if len(x_shape) == 3:
        return "a 3-D x is (N, C, L): its mask has shape (N, C, 1)"
    return "one draw per (sample, channel): the mask has shape (N, C, 1, 1)"


def _dropout2d_case(label, seed, x, p, *, gseed, training=True, stats=False, repeat=None):
    steps = [library("torch.manual_seed", seed), let("x_base" if repeat else "x", x)]
    full = x.repeat(*repeat) if repeat else x
    if repeat:
        steps.append(method("x_base", "repeat", *repeat, save="x"))
    kwargs = {} if training else {"training": False}
    steps.append(call("dropout2d_forward", var("x"), p, generator=generator(gseed), save="result", record="result",
                      **kwargs))
    if not repeat:
        steps.append(record("x after", var("x")))
    x_np, dtype = to_numpy(full), str(full.dtype).replace("torch.", "")
    mask_shape = (*x_np.shape[:2], *([1] * (x_np.ndim - 2)))
    rtol = 1e-6 if dtype == "float32" else 1e-13
    shape_hint = ("a 3-D x is (N, C, L): its mask has shape (N, C, 1), one draw per (sample, channel)"
                  if x_np.ndim == 3 else "")

    def judge(got, expected):
        out, mask = _pair(got["result"], label, shape_hint)
        if not repeat:
            _unchanged(got["x after"], to_numpy(x), label, "dropout2d_forward")
        _dtype(mask, dtype, label, "the mask")
        _dtype(out, dtype, label, "out")
        out, mask = J.numbers(out, label), J.numbers(mask, label)
        if mask.shape != mask_shape:
            J.fail(label, f"the mask must have shape {mask_shape}, got {mask.shape}: "
                         f"{_mask_shape_hint(mask.shape, x_np.shape)}")
        if out.shape != x_np.shape:
            J.fail(label, f"out must have the shape of x {x_np.shape}, got {out.shape}")
        if not training or p == 0.0:
            what = "training=False" if not training else "p = 0"
            J.close(mask, np.ones(mask_shape), f"{label}: mask", rtol=0, atol=0,
                    hint=N_(f"{what}: the mask is all ones (no dropping at evaluation time, no scaling)"))
            J.close(out, x_np, f"{label}: out", rtol=0, atol=0, hint=N_(f"{what}: channel-wise dropout "
                                                                         "is the identity"))
            return
        _no_nan(mask, label, p)
        if p == 1.0:
            J.close(mask, np.zeros(mask_shape), f"{label}: mask", rtol=0, atol=0,
                    hint=N_("p = 1 drops every feature map: the mask is all zeros"))
            J.close(out, np.zeros_like(x_np), f"{label}: out", rtol=0, atol=0,
                    hint=N_("p = 1 drops every feature map: out is all zeros, not NaN"))
            return
        J.close(out, x_np * mask, f"{label}: out against x * mask", rtol=rtol, atol=0,
                hint=N_("out must equal x * mask (the mask broadcast over each feature map): a feature map is kept "
                     "whole, scaled by 1/(1-p), or dropped whole"))
        kept = (mask != 0).reshape(mask_shape[:2])
        if stats:
            _keep_rate(kept, p, label, "(sample, channel) draws")
        _scale(mask, p, label, rtol)
        if stats:
            _independent(kept, p, label, "samples", "channels", "(sample, channel) pair")

    if not training or p in (0.0, 1.0):
        return Case(label=label, steps=steps, judge=judge)

    def quantities(got):
        result = got["result"]
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {}
        out, mask = result
        m = _array(mask)
        pairs = mask_shape[:2] if m is not None and m.size == math.prod(mask_shape[:2]) else None
        found = _mask_quantities(out, mask, x_np, p, pairs=pairs)
        if not repeat and isinstance(got["x after"], Array):
            found["x changed"] = not np.array_equal(_array(got["x after"]), to_numpy(x))
        return found

    return Case(label=label, steps=steps, judge=judge, random=("result", "x after"), quantities=quantities)


def _dropout2d_generator_case(seed):
    torch = lazy_torch()
    label = "dropout2d_forward(x of shape (20, 50, 2, 2), 0.4, generator=...) called four times"
    steps = [library("torch.manual_seed", seed), let("x_base", torch.ones(1, 1, 1, 1, dtype=torch.float64)),
             method("x_base", "repeat", 20, 50, 2, 2, save="x"),
             call("dropout2d_forward", var("x"), 0.4, generator=generator(5), record="seed 5, first"),
             call("dropout2d_forward", var("x"), 0.4, generator=generator(5), record="seed 5, again"),
             let("g", generator(7)),
             call("dropout2d_forward", var("x"), 0.4, generator=var("g"), record="one generator, first call"),
             call("dropout2d_forward", var("x"), 0.4, generator=var("g"), record="one generator, second call")]

    def judge(got, expected):
        masks = {k: J.numbers(_pair(got[k], f"{label}: {k}")[1], label) for k in
                 ("seed 5, first", "seed 5, again", "one generator, first call", "one generator, second call")}
        if not np.array_equal(masks["seed 5, first"], masks["seed 5, again"]):
            J.fail(label, "two calls with generators seeded alike gave different masks: draw the random numbers from "
                         "the generator argument (torch.rand(shape, generator=generator, dtype=x.dtype)), not from "
                         "torch's global random state")
        if np.array_equal(masks["one generator, first call"], masks["one generator, second call"]):
            J.fail(label, "two calls with the same generator object gave the same mask: every call draws new numbers")

    return Case(label=label, steps=steps, judge=judge, random=GENERATOR_RUNS, quantities=_generator_quantities)


def dropout2d_forward_cases(draw):
    seed_ = draw.seed  # hidden inputs: the declared seed, mixed with the batch's
    torch = lazy_torch()
    x_visible = torch.arange(1.0, 25.0, dtype=torch.float64).reshape(2, 3, 2, 2)
    yield _dropout2d_case("dropout2d_forward(x of shape (2, 3, 2, 2), 0.5, generator=generator(0)) [the visible case]",
                          70, x_visible, 0.5, gseed=0)
    yield _dropout2d_case("dropout2d_forward(x of shape (60, 40, 3, 4), 0.3)", 71,
                          seeded_tensor(seed_(72), (1, 40, 3, 4), shift=0.5, uniform=True), 0.3, gseed=seed_(73),
                          stats=True, repeat=(60, 1, 1, 1))
    yield _dropout2d_case("dropout2d_forward(x of shape (50, 24, 10), 0.6)", 74,
                          seeded_tensor(seed_(75), (1, 24, 10), shift=-2.0), 0.6, gseed=seed_(76), stats=True,
                          repeat=(50, 1, 1))
    yield _dropout2d_case("dropout2d_forward(float32 x of shape (40, 30, 3, 3), 0.25)", 77,
                          seeded_tensor(seed_(78), (40, 30, 3, 3), shift=1.0, dtype="float32"), 0.25,
                          gseed=seed_(79), stats=True)
    for i, (dtype, shape) in enumerate([("float64", (4, 3, 2, 5)), ("float32", (3, 5, 6))]):
        x = seeded_tensor(80 + i, shape, shift=0.5, dtype=dtype)
        yield _dropout2d_case(f"dropout2d_forward({dtype} x of shape {shape}, 0.3, training=False)", 81 + i, x, 0.3,
                              gseed=1, training=False)
        yield _dropout2d_case(f"dropout2d_forward({dtype} x of shape {shape}, 0.0)", 83 + i, x, 0.0, gseed=1)
        yield _dropout2d_case(f"dropout2d_forward({dtype} x of shape {shape}, 1.0)", 85 + i, x, 1.0, gseed=1)
    yield _dropout2d_generator_case(87)
    yield _raising_case("dropout2d_forward", seeded_tensor(88, (2, 3, 4, 4)), 1.2, seed=89,
                        hint=N_("p = 1.2 must raise ValueError: a probability lies in [0, 1]"))
    yield _raising_case("dropout2d_forward", seeded_tensor(90, (6, 4)), 0.3, seed=91,
                        hint=N_("a 2-D x must raise ValueError: channel-wise dropout needs (N, C, H, W) or (N, C, L)"))


# -- mc_dropout_predict ----------------------------------------------------------------------------
class _State:
    """The state of a model that is never built here: module() only needs state_dict()."""

    def __init__(self, state):
        self._state = state

    def state_dict(self):
        return self._state


def _net_with_batch_norm(seed):
    """Linear(5, 16), BatchNorm1d(16), ReLU, Dropout(0.3), Linear(16, 3) with running stats away from 0 and 1."""
    torch = lazy_torch()
    layers = [["Linear", 5, 16], ["BatchNorm1d", 16], ["ReLU"], ["Dropout", 0.3], ["Linear", 16, 3]]
    state = {"0.weight": seeded_tensor(seed, (16, 5), scale=0.6), "0.bias": seeded_tensor(seed + 1, (16,), scale=0.2),
             "1.weight": seeded_tensor(seed + 2, (16,), shift=1.0, scale=0.2),
             "1.bias": seeded_tensor(seed + 3, (16,), scale=0.2),
             "1.running_mean": seeded_tensor(seed + 4, (16,), scale=0.5),
             "1.running_var": seeded_tensor(seed + 5, (16,), shift=0.5, uniform=True),
             "1.num_batches_tracked": torch.tensor(100),
             "4.weight": seeded_tensor(seed + 6, (3, 16), scale=0.4),
             "4.bias": seeded_tensor(seed + 7, (3,), scale=0.2)}
    return layers, _State(state)


def _net_two_dropouts(seed):
    """Dropout(0.2), Linear(6, 8), Tanh, Dropout(0.5), Linear(8, 2)."""
    layers = [["Dropout", 0.2], ["Linear", 6, 8], ["Tanh"], ["Dropout", 0.5], ["Linear", 8, 2]]
    state = {"1.weight": seeded_tensor(seed, (8, 6), scale=0.5), "1.bias": seeded_tensor(seed + 1, (8,), scale=0.2),
             "4.weight": seeded_tensor(seed + 2, (2, 8), scale=0.6), "4.bias": seeded_tensor(seed + 3, (2,), scale=0.2)}
    return layers, _State(state)


MC_MEAN_HINT = (N_("the mean over the n_samples passes of model(x), with every dropout layer in training "
                   "mode and every "
                "other layer in evaluation mode (BatchNorm uses its running statistics); sample k is the k-th call "
                "of model(x) after the test seeds torch's generator (no other call in between, no batched call)"))


def _mc_case(label, seed, net, x, n_samples, start):
    """mc_dropout_predict on a model built from data, starting in mode ``start`` ("eval", "train", "mixed")."""
    layers, state = net
    names = [layer[0] for layer in layers]
    steps = [let("x", x), let("model", module(layers, state))]
    if start == "eval":
        steps.append(method("model", "eval"))
    elif start == "mixed":  # training mode except the batch norm layer
        steps += [method("model", "train"), attribute("model", "1", save="bn"), method("bn", "eval")]
    steps += [library("torch.manual_seed", seed),
              call("mc_dropout_predict", var("model"), var("x"), n_samples, save="result", record="result"),
              attribute("model", "training", record="model.training after")]
    for i, name in enumerate(names):
        steps += [attribute("model", str(i), save=f"layer{i}"),
                  attribute(f"layer{i}", "training", record=f"model[{i}].training after ({name})")]
    batch_norm = [i for i, name in enumerate(names) if name == "BatchNorm1d"]
    for i in batch_norm:
        for buffer in ("running_mean", "running_var", "num_batches_tracked"):
            steps.append(attribute(f"layer{i}", buffer, record=f"model[{i}].{buffer} after"))
    steps += [record("x after", var("x")),  # last: the flags need a tuple of tensors
              let("mean", var("result", 0)), attribute("mean", "requires_grad", record="mean.requires_grad"),
              let("std", var("result", 1)), attribute("std", "requires_grad", record="std.requires_grad")]
    x_np = to_numpy(x)

    def judge(got, expected):
        res = got["result"]
        if isinstance(res, Raised):
            J.fail(label, f"raised {res.name}: {res.message[:300]}")
        if not isinstance(res, (tuple, list)) or len(res) != 2:
            J.fail(label, f"must return the tuple (mean, std), got {J.describe(res)}")
        for name, value in zip(("mean", "std"), res, strict=True):
            J.is_tensor(value, f"{label}: {name}")
        mean, std = res
        exp_mean, exp_std = expected["result"]
        for i in batch_norm:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                key = f"model[{i}].{buffer} after"
                J.close(got[key], expected[key], f"{label}: {key}", rtol=0, atol=0,
                        hint=N_("the BatchNorm running statistics changed: BatchNorm ran in training "
                                "mode (model.train() "
                             "switches every layer); put only the dropout layers in training mode, the rest in "
                             "evaluation mode"))
        got_std, want_std = J.numbers(std, label), J.numbers(exp_std, label)
        if got_std.shape == want_std.shape and np.all(np.abs(got_std) < 1e-12) and np.any(want_std > 1e-6):
            J.fail(label, "your standard deviation is 0 everywhere: every pass gave the same output, so dropout was "
                         "not active (model.eval() switches it off; put the dropout layers in training mode) or one "
                         "output was reused; each of the n_samples calls of model(x) draws new masks")
        J.close(mean, exp_mean, f"{label}: mean", hint=MC_MEAN_HINT, rtol=1e-10, atol=1e-12)
        hint = "std over the samples, dividing by n_samples (correction=0, not torch.std's default n_samples - 1)"
        if got_std.shape == want_std.shape and n_samples > 1:
            if np.allclose(got_std, want_std * math.sqrt(n_samples / (n_samples - 1)), rtol=1e-6, atol=1e-7):
                hint = ("your std is sqrt(n/(n-1)) times too large: torch.std divides by n_samples - 1 by default; "
                        "the course's std divides by n_samples (std(dim=0, correction=0))")
            elif np.allclose(got_std, want_std**2, rtol=1e-6, atol=1e-7):
                hint = "you returned the variance: return its square root, the standard deviation"
        # std: 1e-7 absolute allows sqrt(E[y^2] - E[y]^2), whose cancellation error is about sqrt(eps) * |y|
        J.close(std, exp_std, f"{label}: std", hint=hint, rtol=1e-8, atol=1e-7)
        if got["mean.requires_grad"] is not False or got["std.requires_grad"] is not False:
            J.fail(label, "mean and std carry an autograd graph (requires_grad=True): prediction keeps no graph; run "
                         "the passes under torch.no_grad() (or detach the results)")
        for key in [k for k in expected if "training after" in k]:
            J.equal(got[key], expected[key], f"{label}: {key}",
                    hint=N_("afterwards every submodule must be back in the mode it had before the call (save "
                         "module.training for every module of model.modules() and restore each one; "
                         "model.train(was_training) or a final model.eval() resets them all alike)"))
        J.close(got["x after"], x_np, f"{label}: x after the call", rtol=0, atol=0,
                hint=N_("mc_dropout_predict must not modify x"))

    return Case(label=label, steps=steps, judge=judge)


def mc_dropout_predict_cases(draw):
    seed_ = draw.seed  # hidden inputs: the declared seed, mixed with the batch's
    x = seeded_tensor(seed_(100), (12, 5), scale=1.5)
    first, second = (_net_with_batch_norm(seed_(seed) % 10**6) for seed in (110, 120))
    yield _mc_case("mc_dropout_predict(model in eval mode [Linear, BatchNorm1d, ReLU, Dropout(0.3), Linear], x, 8)",
                   seed_(101), first, x, 8, "eval")
    yield _mc_case("mc_dropout_predict(the same model in training mode, x, 6)", seed_(102), first, x, 6, "train")
    yield _mc_case("mc_dropout_predict(the same model in training mode except its BatchNorm1d, x, 5)", seed_(103),
                   second, x, 5, "mixed")
    yield _mc_case("mc_dropout_predict(model in eval mode [Dropout(0.2), Linear, Tanh, Dropout(0.5), Linear], x, 10)",
                   seed_(104), _net_two_dropouts(seed_(130) % 10**6), seeded_tensor(seed_(105), (7, 6),
                                                                                           shift=0.5), 10, "eval")
    yield _mc_case("mc_dropout_predict(model in eval mode, x, 1)", seed_(106),
                   _net_two_dropouts(seed_(140) % 10**6), seeded_tensor(seed_(107), (4, 6)), 1, "eval")
    yield _raising_case("mc_dropout_predict", module(*_net_two_dropouts(150)), seeded_tensor(108, (3, 6)), 0, seed=109,
                        hint=N_("n_samples = 0 must raise ValueError: at least one pass is needed"))


# -- mcnemar: the judgment part ---------------------------------------------------------------------------
MCNEMAR_OUTPUTS = ("only_a", "only_b", "p_value")


def _binomial_tail(n, k):
    """P(Binomial(n, 1/2) <= k), exact."""
    return sum(math.comb(n, j) for j in range(k + 1)) / 2**n


def _scalar(value):
    """A recorded number as a Python float, or None (a bool is not a count)."""
    number = J.scalar(value)
    return number if type(number) is float else None


def _mcnemar_compare(a, b):
    """Judge (only_a, only_b, p_value); a difference is compared with the known wrong variants, computed here from
    the very inputs, so that the message says what the answer computed."""
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    both, neither, n_all = int((a & b).sum()), int((~a & ~b).sum()), a.size
    n = only_a + only_b
    tail = _binomial_tail(n, min(only_a, only_b))
    acc_a, acc_b = a.mean(), b.mean()
    pooled = (acc_a + acc_b) / 2
    se = math.sqrt(2 * pooled * (1 - pooled) / n_all) if 0 < pooled < 1 else 0.0
    unpaired = math.erfc(abs(acc_a - acc_b) / se / math.sqrt(2)) if se > 0 else 1.0
    chi2 = math.erfc(math.sqrt((abs(only_a - only_b) - 1) ** 2 / n) / math.sqrt(2)) if n else 1.0
    p_variants = [
        (tail, "This is the one-sided p-value: the two-sided test doubles the tail (then caps at 1)."),
        (2 * tail, "This is 2 * tail without the cap: a p-value cannot exceed 1, take min(1, 2 * tail)."),
        (unpaired, "This is the unpaired two-proportion z-test of the two accuracies, which ignores that both "
                   "classifiers saw the same examples; McNemar's test uses the discordant examples only."),
        (min(1.0, 2 * _binomial_tail(n_all, min(only_a, only_b))),
         "This is the binomial test over ALL examples: the agreements (both right, both wrong) do not enter "
         "McNemar's test, n is only_a + only_b."),
        (chi2, "This is the asymptotic chi-square version (with continuity correction); the exercise asks for the "
               "exact binomial test."),
    ]
    count_variants = [(both, "This is the number of examples BOTH classifiers get right (an agreement)."),
                      (neither, "This is the number of examples both get wrong (an agreement)."),
                      (only_b, "This is only_b: only_a counts the examples right with a and WRONG with b."),
                      (only_a, "This is only_a: only_b counts the examples right with b and WRONG with a.")]

    def compare(got, expected, what):
        if isinstance(got, Raised) or not isinstance(got, (tuple, list)) or len(got) != 3:
            J.fail(what, f"expected a tuple (only_a, only_b, p_value), got {J.describe(got)}")
        for index, name in enumerate(MCNEMAR_OUTPUTS):
            value, want = _scalar(got[index]), float(to_numpy_value(expected[index]))
            if value is not None and (value == want if index < 2 else math.isclose(value, want, rel_tol=1e-9,
                                                                                    abs_tol=1e-15)):
                continue
            if index < 2:
                notes = [text for key, text in count_variants if value == key and key != want]
                rule = f"{name} counts the discordant examples right only with {'a' if index == 0 else 'b'}"
            else:
                notes = [text for key, text in p_variants
                         if value is not None and math.isclose(value, key, rel_tol=1e-9, abs_tol=1e-15)
                         and not math.isclose(key, want, rel_tol=1e-9, abs_tol=1e-15)]
                rule = (f"p_value = min(1, 2 P(Binomial({n}, 1/2) <= min({only_a}, {only_b}))), the exact two-sided "
                        "test (scipy.stats.binomtest(only_b, only_a + only_b).pvalue); 1 when no example is "
                        "discordant")
            J.fail(what, f"{name}: expected {want:.12g}, got {J.describe(got[index])}", " ".join([rule + "."] + notes))
    return compare


def to_numpy_value(value):
    return value.value.reshape(()) if isinstance(value, Array) else value


def _paired_outcomes(rng, n, cells):
    """Two correctness vectors drawn from the probabilities of (both right, only a, only b, both wrong)."""
    kind = rng.choice(4, size=n, p=np.asarray(cells) / np.sum(cells))
    return kind <= 1, (kind == 0) | (kind == 2)


def _mcnemar_case(label, a, b):
    torch = lazy_torch()
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    valid = a.shape == b.shape and a.size > 0
    return function_case("mcnemar", torch.as_tensor(a), torch.as_tensor(b), label=label,
                         compare=_mcnemar_compare(a, b) if valid else None,
                         hint=N_("raise ValueError when the two vectors do not score the same examples"))


VISIBLE_A = [True, True, True, True, False, False, False, False, False, False, True, False]
VISIBLE_B = [True, True, True, False, True, True, True, True, True, True, True, False]


def mcnemar_cases(draw):
    yield _mcnemar_case("mcnemar on 12 examples: 1 right only with a, 6 only with b [visible]", VISIBLE_A, VISIBLE_B)
    yield _mcnemar_case("mcnemar with as many examples right only with a as only with b (p = 1) [visible]",
                        [True, True, False, False, True, False], [False, False, True, True, True, False])
    yield _mcnemar_case("mcnemar with no discordant example (p = 1)", [True, False, True, True],
                        [True, False, True, True])
    yield _mcnemar_case("mcnemar where b wins every discordant example", [False] * 9 + [True] * 20,
                        [True] * 9 + [True] * 20)
    for i, (n, cells) in enumerate([(120, (0.7, 0.08, 0.14, 0.08)), (500, (0.85, 0.04, 0.07, 0.04)),
                                    (60, (0.5, 0.2, 0.2, 0.1)), (2000, (0.9, 0.03, 0.035, 0.035)),
                                    (300, (0.6, 0.15, 0.05, 0.2)), (45, (0.3, 0.1, 0.4, 0.2))]):
        a, b = _paired_outcomes(draw.numpy(800 + i), n, cells)
        yield _mcnemar_case(f"mcnemar on random paired outcomes of {n} examples", a, b)
    yield _mcnemar_case("mcnemar with vectors of different lengths (must raise ValueError)", [True, False, True],
                        [True, False])


CHAPTER = Chapter(
    id="05-dropout",
    title="Dropout",
    reference=("solutions.dropout",),
    tests=(
        Test("test_dropout_forward", "dropout_forward", "dropout_forward(x, p, training=True, generator=None)",
             dropout_forward_cases),
        Test("test_dropout_backward", "dropout_backward", "dropout_backward(grad_out, mask)", dropout_backward_cases),
        Test("test_Dropout", "Dropout", "class Dropout(torch.nn.Module): __init__(self, p=0.5), forward(self, x)",
             dropout_module_cases),
        Test("test_dropout2d_forward", "dropout2d_forward", "dropout2d_forward(x, p, training=True, generator=None)",
             dropout2d_forward_cases),
        Test("test_mc_dropout_predict", "mc_dropout_predict", "mc_dropout_predict(model, x, n_samples)",
             mc_dropout_predict_cases),
        Test("test_mcnemar", "mcnemar", "mcnemar(correct_a, correct_b)", mcnemar_cases),
    ),
    mistakes="solutions.mistakes.ch05_dropout",
    budget_seconds=20.0,
    setup=("import math", "import torch"),
)
