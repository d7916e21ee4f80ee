"""Chapter 3: weight initialization. Graded: fans, gains, the Xavier and Kaiming (He) initializers, uniform and
normal, the activation-statistics experiment, and a judgment: input_share, how much of a layer's spread depends on
the input (per unit, across the inputs) rather than on which unit it is.

What the contract fixes exactly is checked exactly: the fans (Python ints, equal to torch's, also for shapes far
too large to allocate), the gains (to 1e-12), every ValueError, the shape and float64 dtype of a weight, and every
uniform weight inside [-b, b]. Random weights are judged against the b or std that the formula gives for the
case's shape and arguments (computed here, on the trusted side): the mean within 5 standard errors of 0, the
sample standard deviation within 5 standard errors of its expectation, both ends of [-b, b] reached (no draw
within 30/n of an end has probability e^-15), a normal's share beyond two standard deviations within 5 standard
errors of 4.55 %. A false failure has probability below 1e-6 per check, and every draw is seeded, so a verdict is
reproducible. When the ratio of what came back to what was expected matches a known mistake (within 4 %), the
message names it. Recorded weight tensors have at most 24,576 entries.

The generator contract: the same seed gives the same weights, another seed other weights, and torch's global
generator is neither read nor reseeded (a case seeds it, lets the answer run, then draws four numbers from it in the
kernel: they must be the reference's). With ``generator=None`` an answer makes a fresh generator seeded from the
operating system: two calls after the same ``torch.manual_seed`` must differ and leave the global stream untouched.
Those cases record booleans and the probe draw, never the OS-seeded weights, so records stay deterministic (chapter
5 specifies ``None`` as torch's default generator instead, as ``torch.nn.init`` and ``nn.Dropout`` do). Every case
seeds torch's global generator first, so answers (and catalogued mistakes) that ignore the generator are
reproducible too.

Each answer is tested on its own: the initializers compute their own fans and take the gain from
``torch.nn.init.calculate_gain`` (the exercise says so), and activation_stats draws its weights with
``torch.randn * std``, not through the student's initializers. activation_stats is judged against the reference
run with the same generator seed; an answer that draws in another order gets independent samples, so the
tolerances are 5 standard errors of the difference of two independent runs (5 sqrt(2) = 7.1 seed-to-seed standard
deviations of the reference, measured over 100 seeds at the size of the cases, the exercise's visible size of 6
layers, width 128 and 200 samples, then rounded up by 10 % for the error of that estimate). The visible cases'
property checks (He + relu steady, Xavier + relu fading, ...) are judged on the same records.

input_share is judged on layers of deep random nets computed here (sigmoid, tanh and relu; Xavier, He and std-1
scales; 1 to 12 layers; drawn per batch seed), among them sigmoid layers that have forgotten their input (share
below 1e-6 while the pooled spread looks healthy), so no number can be copied. Tolerance: 1e-9 relative plus 1e-12
absolute (a correct answer computed as 1 - between / pooled loses a few ulps of 1 to cancellation). The message names
the rule the answer fits (across units per input, a ratio of standard deviations, ddof=1).
"""

import math

import numpy as np

from checks import judge as J
from checks.probe import Array, Opaque, Raised
from checks.spec import (
    Case,
    Chapter,
    Estimate,
    Test,
    attribute,
    bind,
    call,
    function_case,
    generator,
    let,
    library,
    method,
    seeded,
    var,
)
from checks.tensors import lazy_torch
from checks.words import N_

N_SE = 5  # standard errors allowed for every distribution check (see the module docstring)
FILL = 30  # a uniform sample of n draws reaches within FILL/n of each end of [-b, b] (misses: e^-15)
P_BEYOND_2 = math.erfc(2 / math.sqrt(2))  # P(|Z| > 2) = 0.0455 for a normal distribution
MATCH = 0.04  # a ratio of stds within 4 % of a known mistake's is named in the message
MATCH_BOUND = 0.02  # the largest |w| of a uniform lies within FILL/n (below 2 %) of its bound
CONV = (128, 32, 3, 2)  # a Conv2d(32, 128, (3, 2)) weight: fan_in 192 != fan_out 768, a non-square kernel
HIDDEN_SHAPES = [(400, 60), (30, 500), (40, 24, 5), (12, 6, 2, 3, 4)]  # fan_in != fan_out; Conv1d; Conv3d


def _probe_steps():
    """Draw four numbers from torch's global generator in the kernel: where the case's seed left it, or not."""
    torch = lazy_torch()
    return [let("probe", torch.zeros(4, dtype=torch.float64)), method("probe", "uniform_", record="global draw")]


def _global_untouched(got, expected, what, hint):
    draw = got["global draw"]
    if isinstance(draw, Raised) or not np.array_equal(J.numbers(draw, what), J.numbers(expected["global draw"], what)):
        J.fail(what, "torch's global random generator was used: after the call it was not where torch.manual_seed left "
                    "it (the next global draw differs from the reference's)", hint)


def _shape_arg(shape, as_size):
    """Steps and the plan value for ``shape``: a tuple, or a torch.Size made in the kernel (a 1-element view)."""
    if not as_size:
        return [], tuple(shape)
    torch = lazy_torch()
    return ([let("one", torch.zeros(1, dtype=torch.float64)), method("one", "expand", *shape, save="view"),
             attribute("view", "shape", save="size")], var("size"))


# -- fan_in_and_fan_out ----------------------------------------------------------------------------------
FANS_HINT = (N_("fan_in = shape[1] * r and fan_out = shape[0] * r, with r the product of the kernel sizes shape[2:] "
             "(1 for a Linear weight)"))


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Array) and value.kind == "scalar" and np.dtype(value.dtype).kind in "iu"


def _fans_compare(hint):
    def compare(got, expected, what):
        if isinstance(got, Raised):
            J.fail(what, f"raised {got.name}: {got.message[:300]}", hint)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            J.fail(what, f"expected the tuple (fan_in, fan_out), got {J.describe(got)}")
        values = [J.numbers(v, what) for v in got]  # a numpy scalar arrives as an array of shape (1,)
        if any(v.size != 1 for v in values) or [float(v.ravel()[0]) for v in values] != [float(e) for e in expected]:
            shown = tuple(_plain(v) if _is_int(v) or isinstance(v, float) else J.describe(v) for v in got)
            J.fail(what, f"expected (fan_in, fan_out) = {tuple(expected)}, got {shown}", hint)
        if not all(_is_int(v) for v in got):
            J.fail(what, f"the fans must be ints, got {J.describe(got[0])} and {J.describe(got[1])}: np.prod of an "
                        "empty tuple is the float 1.0 (use math.prod, or int(...))")

    return compare


def _plain(value):
    return value.value.ravel()[0].item() if isinstance(value, Array) else value


def _fans_case(shape, hint, as_size=False):
    steps, arg = _shape_arg(shape, as_size)
    case = function_case("fan_in_and_fan_out", arg, hint=hint, compare=_fans_compare(hint),
                         label=f"fan_in_and_fan_out({f'torch.Size({list(shape)})' if as_size else repr(shape)})")
    return Case(label=case.label, steps=steps + case.steps, judge=case.judge)


def fan_in_and_fan_out_cases(draw):
    yield _fans_case((3, 7), "nn.Linear(7, 3).weight has shape (out, in) = (3, 7): fan_in counts the inputs, "
                             "shape[1]; fan_out the outputs, shape[0]: did you swap fan_in and fan_out?")
    yield _fans_case((8, 3, 3, 3), "Conv2d(3, 8, 3) weight (8, 3, 3, 3): each output sees in_channels x kernel_height "
                                   "x kernel_width inputs, so fan_in = 3 * 3 * 3 = 27 and fan_out = 8 * 3 * 3 = 72: "
                                   "the receptive field is missing, or it multiplies fan_in only (the receptive "
                                   "field multiplies fan_out too)", as_size=True)
    yield _fans_case((8, 3, 3, 5), "Conv2d(3, 8, (3, 5)): a non-square kernel: the receptive field is the product of "
                                   "all kernel sizes, 3 * 5, not kernel_size**2")
    for shape in [(6, 4, 5), (9, 2, 3, 2), (4, 2, 1, 2, 3)]:  # Conv1d, Conv2d with groups=3, Conv3d
        yield _fans_case(shape, "the receptive field is the product of every dimension after the first two: "
                                + FANS_HINT)
    for shape in [(5,), ()]:
        yield function_case("fan_in_and_fan_out", shape,
                            hint=N_(f"a shape {shape} with fewer than 2 dimensions has no fan_in/fan_out: raise "
                                 "ValueError (check len(shape) before indexing it)"))
    rng = draw.numpy(303)
    for _ in range(40):
        shape = tuple(int(d) for d in rng.integers(1, 7, size=int(rng.integers(2, 6))))
        yield _fans_case(shape, "random shape: " + FANS_HINT)
    yield _fans_case((9, 2, 3, 2), "Conv2d(6, 9, (3, 2), groups=3) has weight (9, 2, 3, 2): shape[1] is already "
                                   "in_channels / groups, so fan_in = 2 * 6 = 12, fan_out = 9 * 6 = 54")
    yield _fans_case([16, 4, 5], "a list [out, in, kernel] is a shape too: " + FANS_HINT)
    yield _fans_case((0, 5), "a layer with 0 outputs still has fan_in 5 and fan_out 0")
    yield _fans_case((2 * 10**6, 10**6, 10**4, 10**3),
                     "a shape with 2e19 entries (more than any memory holds): compute the fans from the shape "
                     "alone; torch.empty(shape), as torch.nn.init's helper needs, cannot be built. Do not call "
                     "torch.nn.init: implement it yourself")


# -- calculate_gain --------------------------------------------------------------------------------------
GAINS = ("gains: 1 (linear, conv, sigmoid), 5/3 (tanh), sqrt(2) (relu), 3/4 (selu), sqrt(2 / (1 + param**2)) for "
         "leaky_relu with param as the slope (default 0.01)")


def _number_compare(hint, rtol):
    """One number within ``rtol`` (a Python float, a numpy scalar or a one-element tensor)."""
    def compare(got, expected, what):
        values = J.numbers(got, what)
        if values.size != 1:
            J.fail(what, f"expected a single number, got {J.describe(got)}", hint)
        J.close(float(values.ravel()[0]), expected, what, hint, rtol=rtol, atol=0)

    return compare


def _gain(name, param, hint):
    return function_case("calculate_gain", name, param, hint=hint, compare=_number_compare(hint, 1e-12))


def calculate_gain_cases():
    for name in ["linear", "conv1d", "conv2d", "conv3d", "sigmoid"]:
        yield _gain(name, None, "linear layers, convolutions and the sigmoid have gain 1 in torch's table")
    yield _gain("tanh", None, "tanh has gain 5/3 (an empirical value that keeps deep tanh networks from fading); "
                              "gain 1 omits it")
    yield _gain("relu", None, "relu has gain sqrt(2): it scales the standard deviation; 2 is the factor of the "
                              "variance")
    yield _gain("leaky_relu", None, "with param=None the negative slope is 0.01 (torch's default) and the gain "
                                    "sqrt(2 / (1 + slope**2)): take slope 0.01 and square it")
    yield _gain("leaky_relu", 0.2, "leaky_relu: use param as the negative slope and square it: "
                                   "sqrt(2 / (1 + param**2))")
    yield _gain("selu", None, "selu has gain 3/4 in torch's table")
    yield function_case("calculate_gain", "softmax",
                        hint=N_("calculate_gain('softmax') must raise ValueError: it is not in torch's table"))
    for name, param in [("conv2d", 0.5), ("tanh", 0.3), ("relu", 0.3), ("sigmoid", 2.0)]:
        yield _gain(name, param, f"param is the slope of leaky_relu only; {name} ignores it. " + GAINS)
    yield _gain("leaky_relu", 0, "param=0 is a slope of 0 (gain sqrt(2)), not a missing slope: test `param is None`, "
                                 "not `param or 0.01` (0 is falsy)")
    for param in [0.35, 3, math.sqrt(5)]:
        yield _gain("leaky_relu", param, GAINS)
    for name in ["ReLU", "gelu", ""]:
        yield function_case("calculate_gain", name,
                            hint=N_(f"calculate_gain({name!r}) must raise ValueError: names are lower case, exactly as "
                                 "in torch's table"))


# -- weights: shared judges ------------------------------------------------------------------------------
def _weights(got, shape, what):
    """The numbers of a float64 tensor of ``shape`` whose entries are not (nearly) all equal, or Fail."""
    if isinstance(got, Raised):
        J.fail(what, f"raised {got.name}: {got.message[:300]}")
    J.is_tensor(got, what, hint=N_("return a new torch tensor, e.g. torch.empty(shape, dtype=torch.float64)"
                                ".uniform_(-b, b, generator=generator)"))
    values = got.value
    if tuple(values.shape) != tuple(shape):
        J.fail(what, f"expected a tensor of shape {tuple(shape)}, got shape {tuple(values.shape)}")
    if got.dtype != "float64":
        J.fail(what, f"return a float64 tensor (dtype=torch.float64), got {got.dtype}: torch.empty, torch.rand and "
                    "torch.randn create float32 unless told dtype=torch.float64")
    distinct = np.unique(values).size
    if distinct <= values.size // 2:
        J.fail(what, f"only {distinct} distinct values among {values.size} weights. A constant (or zero) init gives "
                    "every unit of a layer the same weights, so they compute and learn the same thing: draw them at "
                    "random")
    return values.astype(np.float64).ravel()


def _looks_like(ratio, mistakes, within=MATCH):
    """What a ratio close to a known mistake's says: a question, not a verdict (a ratio is not a proof)."""
    found = [text for r, text in mistakes if r > 0 and ratio > 0 and abs(math.log(ratio / r)) < within]
    return (" That ratio is what you get when " + "; or when ".join(dict.fromkeys(found)) + ": is that it?"
            if found else "")


def _centred(w, what):
    se = w.std() / math.sqrt(w.size)  # standard error of the mean
    if not abs(w.mean()) < N_SE * se:
        J.fail(what, f"the weights have mean {w.mean():.5g}, expected 0 (within {N_SE} standard errors, "
                    f"{N_SE * se:.5g}). Draw from a distribution centred at 0: U(-b, b), not U(0, b) as "
                    "torch.rand(...) * b gives")


def _check_uniform(w, bound, what, mistakes):
    _centred(w, what)
    n, top = w.size, float(np.abs(w).max())
    hint = _looks_like(top / bound, mistakes, MATCH_BOUND)
    if top > bound * (1 + 1e-12):
        J.fail(what, f"a weight {top:.6g} lies outside [-b, b], b = {bound:.6g}; ratio {top / bound:.4f}." + hint)
    near = bound * (1 - FILL / n)
    if not (w.max() > near and w.min() < -near):
        J.fail(what, f"the {n} weights span [{w.min():.6g}, {w.max():.6g}] but should fill [-b, b] with "
                    f"b = {bound:.6g} (reach within {FILL}/n of each end); ratio {top / bound:.4f}." + hint)
    std, got = bound / math.sqrt(3), float(w.std())
    tol = N_SE * math.sqrt(0.2 / n)  # relative standard error of the std of n uniform draws: sqrt(1 / (5n))
    if not abs(got / std - 1) < tol:
        J.fail(what, f"the weights have standard deviation {got:.6g}, expected b / sqrt(3) = {std:.6g} (within "
                    f"{tol:.2%}): draw uniformly from [-b, b]")


def _check_normal(w, std, what, mistakes):
    _centred(w, what)
    n, got = w.size, float(w.std())
    tol = N_SE / math.sqrt(2 * n)  # relative standard error of the std of n normal draws: 1 / sqrt(2n)
    if not abs(got / std - 1) < tol:
        J.fail(what, f"the weights have standard deviation {got:.6g}, expected {std:.6g} (within {tol:.2%}); ratio "
                    f"{got / std:.4f}." + _looks_like(got / std, mistakes))
    beyond = float((np.abs(w) > 2 * std).mean())
    tol = N_SE * math.sqrt(P_BEYOND_2 * (1 - P_BEYOND_2) / n)
    if not abs(beyond - P_BEYOND_2) < tol:
        J.fail(what, f"{beyond:.2%} of the weights lie beyond 2 standard deviations, a normal distribution has "
                    f"4.55 % (within {tol:.2%}): draw from N(0, std^2) (torch.randn, tensor.normal_), not from a "
                    "uniform distribution")


def _fans(shape):
    from solutions.init import fan_in_and_fan_out

    return fan_in_and_fan_out(shape)


def _show(shape, kwargs, gseed):
    args = [repr(tuple(shape))] + [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(args + [f"generator=generator({gseed})"])


def _weights_case(fn, kind, shape, kwargs, expected, mistakes, seed, gseed, as_size=False, label=None):
    """One seeded call of an initializer, judged by the distribution of the weights it returns."""
    steps, arg = _shape_arg(shape, as_size)
    label = label or f"{fn}({_show(shape, kwargs, gseed)})"
    steps = [library("torch.manual_seed", seed), *steps,
             call(fn, arg, generator=generator(gseed), record="w", **kwargs)]
    what = f"{label}, {'b' if kind == 'uniform' else 'std'} = {expected:.6g}"

    def judge(got, _expected):
        w = _weights(got["w"], shape, label)
        (_check_uniform if kind == "uniform" else _check_normal)(w, expected, what, mistakes)

    return Case(label=label, steps=steps, judge=judge, random=("w",), quantities=lambda got: _weight_stats(got["w"]))


def _weight_stats(w):
    """What the diagnosis compares of random weights (another answer draws other numbers): shape, dtype, whether
    they are constant, and estimates of their mean, standard deviation and share beyond two standard deviations."""
    if not isinstance(w, Array) or w.value.size < 2:
        return {}
    x = np.asarray(w.value, dtype=np.float64).ravel()
    n, mean, std = x.size, float(x.mean()), float(x.std())
    out = {"shape": tuple(w.value.shape), "dtype": w.dtype, "constant": bool(np.unique(x).size <= n // 2)}
    if not (np.isfinite(std) and std > 0):
        return out
    kurtosis = float(((x - mean) ** 4).mean() / std**4)
    beyond = float((np.abs(x - mean) > 2 * std).mean())
    out.update({"mean": Estimate(mean, std / math.sqrt(n)),
                "std": Estimate(std, std * math.sqrt(max(kurtosis - 1, 0.2) / (4 * n))),
                "beyond 2 std": Estimate(beyond, math.sqrt(max(beyond, 1 / n) * (1 - beyond) / n))})
    return out


GENERATOR_HINT = (N_("draw every random number from the generator argument: pass generator=generator to "
                  "tensor.uniform_/normal_ or torch.rand/randn, never draw from torch's global generator"))


def _generator_case(fn, seed, shape=(20, 30), **kwargs):
    """Same seed, same weights; another seed, other weights; the global generator untouched."""
    label = f"{fn}({shape}) called with generators seeded 7, 7 and 8"
    runs = ("seed 7", "seed 7 again", "seed 8")
    steps = [library("torch.manual_seed", seed)]
    steps += [call(fn, tuple(shape), generator=generator(7 if i < 2 else 8), record=name, **kwargs)
              for i, name in enumerate(runs)]
    steps += _probe_steps()

    def judge(got, expected):
        a, b, c = (_weights(got[name], shape, f"{label}: {name}") for name in runs)
        if not np.array_equal(a, b):
            J.fail(label, "two generators with the same seed (torch.Generator().manual_seed(7)) gave different "
                         "weights", GENERATOR_HINT)
        if np.array_equal(a, c):
            J.fail(label, "generators with different seeds (7 and 8) gave the same weights: the generator argument "
                         "was not used", GENERATOR_HINT)
        _global_untouched(got, expected, label, GENERATOR_HINT)

    def quantities(got):
        if not all(isinstance(got[name], Array) for name in runs):
            return {}
        a, b, c = (got[name].value for name in runs)
        return {"same seed, same weights": a.shape == b.shape and bool(np.array_equal(a, b)),
                "other seed, other weights": not (a.shape == c.shape and np.array_equal(a, c))}

    return Case(label=label, steps=steps, judge=judge, random=runs, quantities=quantities)


NONE_HINT = (N_("with generator=None make a fresh generator seeded from the operating system (generator = "
             "torch.Generator(); generator.seed()) and draw from it: passing None on to uniform_/normal_/randn (or "
             "to torch.nn.init) draws from torch's global generator"))


def _none_case(fn, seed, *args, label=None, **kwargs):
    """generator=None: new numbers at every call, torch's global generator untouched (booleans recorded only)."""
    label = label or f"{fn}({', '.join(repr(a) for a in args)}) with generator=None, called twice"
    steps = [library("torch.manual_seed", seed), call(fn, *args, save="first", **kwargs), *_probe_steps(),
             library("torch.manual_seed", seed), call(fn, *args, save="second", **kwargs),
             method("first", "equal", var("second"), record="same result twice"),
             attribute("first", "dtype", record="dtype")]

    def judge(got, expected):
        _global_untouched(got, expected, label, NONE_HINT)
        same = got["same result twice"]
        if isinstance(same, Raised):
            J.fail(label, f"raised {same.name}: {same.message[:300]}")
        if same is not False:
            J.fail(label, "two calls with generator=None (after the same torch.manual_seed) returned the same numbers: "
                         "seed the fresh generator from the operating system (generator.seed()); an unseeded "
                         "torch.Generator() always starts from the same state", NONE_HINT)
        dtype = got["dtype"]
        if not (isinstance(dtype, Opaque) and dtype == expected["dtype"]):
            J.fail(label, f"expected a tensor of dtype {expected['dtype'].type_name}, got {J.describe(dtype)}")

    return Case(label=label, steps=steps, judge=judge)


def _raising(fn, *args, hint, seed=0, **kwargs):
    return seeded(seed, function_case(fn, *args, hint=hint, **kwargs))


# -- xavier ----------------------------------------------------------------------------------------------
def _xavier(shape, gain, kind):
    """(b or std, known mistakes as (ratio, text)) of Xavier's formula for ``shape``."""
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    scale = math.sqrt(3.0) if kind == "uniform" else 1.0  # b = sqrt(3) std
    expected = scale * std
    name = "bound" if kind == "uniform" else "std"
    mistakes = [(scale * gain * math.sqrt(1 / fan_in) / expected,
                 f"fan_in only (LeCun); Xavier uses both fans, gain * sqrt({'6' if scale > 1 else '2'} / "
                 "(fan_in + fan_out))"),
                (scale * gain * math.sqrt(2 / fan_in) / expected,
                 "fan_in only (He); Xavier uses both fans, sqrt(2 / (fan_in + fan_out))")]
    if kind == "uniform":
        mistakes.append((1 / math.sqrt(3), "the std gain * sqrt(2 / (fan_in + fan_out)) was used as the bound; b is "
                                           "sqrt(3) times the std"))
    else:
        mistakes.append((std, "the variance gain**2 * 2 / (fan_in + fan_out) was used as the standard deviation"))
    if len(shape) > 2:
        mistakes.append((math.sqrt((fan_in + fan_out) / (shape[0] + shape[1])),
                         f"the receptive field ({' * '.join(map(str, shape[2:]))}) is missing from the fans"))
    if gain != 1.0:
        mistakes += [(1 / gain, f"the gain was ignored; the {name} is gain * sqrt(...)"),
                     (gain, "the gain was applied twice (or squared)")]
    return expected, mistakes


# An initializer may call the student's fan_in_and_fan_out and calculate_gain: its checks run with torch's in their
# place (torch is the oracle of parts 1 and 2), so that a mistake there costs points in its own test only.
TORCH_FANS = """def fan_in_and_fan_out(shape):
    import torch
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(tuple(shape)))
"""
TORCH_GAIN = """def calculate_gain(nonlinearity, param=None):
    import torch
    return torch.nn.init.calculate_gain(nonlinearity, param)
"""


def _with_torch_helpers(cases):
    for case in cases:
        steps = [bind("fan_in_and_fan_out", TORCH_FANS), bind("calculate_gain", TORCH_GAIN), *case.steps]
        yield Case(label=case.label, steps=steps, judge=case.judge, random=case.random, quantities=case.quantities)


def _xavier_cases(fn, kind, draw):
    for seed, (gain, gseed) in enumerate([(1.0, 0), (5 / 3, 1)]):
        expected, mistakes = _xavier(CONV, gain, kind)
        yield _weights_case(fn, kind, CONV, {} if gain == 1.0 else {"gain": gain}, expected, mistakes, 10 + seed,
                            gseed)
    yield _generator_case(fn, 12)
    for i, (shape, gain) in enumerate(zip(HIDDEN_SHAPES, [1.0, 1.3, 5 / 3, 1.0], strict=True)):
        expected, mistakes = _xavier(shape, gain, kind)
        yield _weights_case(fn, kind, shape, {"gain": gain}, expected, mistakes, draw.seed(20 + i),
                            draw.seed(100 + i) % 2**31, as_size=i == 3)
    yield _none_case(fn, 30, (40, 24, 5))
    for shape in [(5,), ()]:
        yield _raising(fn, shape, generator=generator(0),
                       hint=N_(f"{fn}({shape}) must raise ValueError: a shape with fewer than 2 "
                                "dimensions has no fans"))


def xavier_uniform_cases(draw):
    return _with_torch_helpers(_xavier_cases("xavier_uniform", "uniform", draw))


def xavier_normal_cases(draw):
    return _with_torch_helpers(_xavier_cases("xavier_normal", "normal", draw))


# -- kaiming ---------------------------------------------------------------------------------------------
def _kaiming(shape, kind, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """(b or std, known mistakes as (ratio, text)) of He's formula for ``shape`` and the arguments."""
    from solutions.init import calculate_gain

    fan_in, fan_out = _fans(shape)
    gain = calculate_gain(nonlinearity, a)
    fan, other = (fan_in, fan_out) if mode == "fan_in" else (fan_out, fan_in)
    std = gain / math.sqrt(fan)
    scale = math.sqrt(3.0) if kind == "uniform" else 1.0
    expected = scale * std
    mistakes = []
    if mode == "fan_in":
        mistakes += [(math.sqrt(fan / other), "fan_out was used by default; mode='fan_in' is the default"),
                     (math.sqrt(fan / other) / gain,
                      "fan_out by default and no gain; defaults: mode='fan_in', gain calculate_gain(nonlinearity, a)")]
    else:
        mistakes.append((math.sqrt(fan / other), "mode was ignored; mode='fan_out' divides by fan_out"))
    if nonlinearity in ("leaky_relu", "relu") and a == 0.0:
        mistakes.append((1 / gain, "the factor 2 is missing: the default leaky_relu with a=0 has the ReLU gain "
                                   "sqrt(2), std sqrt(2 / fan)"))
    elif nonlinearity == "leaky_relu":
        mistakes.append((math.sqrt(2.0) / gain, "the negative slope a was ignored; gain = calculate_gain(nonlinearity, "
                                                "a) = sqrt(2 / (1 + a**2))"))
        mistakes.append((1 / gain, "the gain is missing: std = gain / sqrt(fan)"))
    else:
        mistakes.append((math.sqrt(2.0) / gain, f"nonlinearity was ignored; {nonlinearity} has gain {gain:.4g}: "
                                                "gain = calculate_gain(nonlinearity, a)"))
    mistakes.append((math.sqrt(2.0 / (fan_in + fan_out)) / std, "Xavier's std; He uses gain / sqrt(fan)"))
    if kind == "uniform":
        mistakes.append((1 / math.sqrt(3), "the std was used as the bound; b = sqrt(3) * gain / sqrt(fan)"))
    else:
        mistakes.append((std, f"the variance gain**2 / fan = {std**2:.4g} was used as the standard deviation"))
    return expected, mistakes


KAIMING_VISIBLE = [({}, "with the defaults (a=0, mode='fan_in', leaky_relu: std sqrt(2 / fan_in))"),
                   ({"mode": "fan_out"}, None), ({"a": 0.5}, None), ({"nonlinearity": "tanh"}, None)]
KAIMING_HIDDEN = [((400, 60), {}), ((30, 500), {"mode": "fan_out"}), ((40, 24, 5), {"a": 0.2}),
                  ((12, 6, 2, 3, 4), {"nonlinearity": "relu", "mode": "fan_out"})]


def _kaiming_cases(fn, kind, last, draw):
    for gseed, (kwargs, note) in enumerate(KAIMING_VISIBLE):
        expected, mistakes = _kaiming(CONV, kind, **kwargs)
        label = f"{fn}({_show(CONV, kwargs, gseed)})" + (f" {note}" if note else "")
        yield _weights_case(fn, kind, CONV, kwargs, expected, mistakes, 40 + gseed, gseed, label=label)
    yield _generator_case(fn, 45)
    for i, (shape, kwargs) in enumerate([*KAIMING_HIDDEN, last]):
        expected, mistakes = _kaiming(shape, kind, **kwargs)
        yield _weights_case(fn, kind, shape, kwargs, expected, mistakes, draw.seed(50 + i),
                            draw.seed(100 + i) % 2**31, as_size=i == 3)
    yield _none_case(fn, 60, (40, 24, 5))
    yield _raising(fn, (20, 30), mode="fan_avg", generator=generator(0),
                   hint=N_("mode='fan_avg' must raise ValueError: only 'fan_in' and 'fan_out' exist"))
    yield _raising(fn, (20, 30), nonlinearity="softmax", generator=generator(0),
                   hint=N_("nonlinearity='softmax' must raise ValueError (calculate_gain raises for it)"))
    yield _raising(fn, (5,), generator=generator(0),
                   hint=N_(f"{fn}((5,)) must raise ValueError: a shape with fewer than 2 dimensions has no fans"))


def kaiming_uniform_cases(draw):
    return _with_torch_helpers(_kaiming_cases("kaiming_uniform", "uniform", ((50, 60), {"a": math.sqrt(5)}), draw))


def kaiming_normal_cases(draw):
    return _with_torch_helpers(_kaiming_cases("kaiming_normal", "normal", ((50, 60), {"nonlinearity": "selu"}), draw))


# -- activation_stats ------------------------------------------------------------------------------------
INITS = {"normal": "N(0, 1) weights, std 1", "xavier": "N(0, 1 / width), std 1 / sqrt(width) (Xavier, gain 1)",
         "he": "N(0, 2 / width), std sqrt(2 / width) (He with the ReLU gain)"}
SATURATION = "saturated means sigmoid < 0.01 or > 0.99 (both ends), |tanh| > 0.97, relu == 0"
AFTER = "the statistics are those of the activations f(x @ W.T), after the nonlinearity"
# 5 standard errors of the difference of two independent runs of SIZE: log std, mean (in reference stds),
# saturated fraction; see the module docstring.
TOL = {"sigmoid": (0.46, 0.76, 0.29), "tanh": (0.125, 0.057, 0.028), "relu": (1.2, 0.9, 0.27)}
SIZE = {"n_layers": 6, "width": 128, "n_samples": 200}  # the visible cases' size (small: the reference runs too)


def _stats(got, what, n_layers):
    if isinstance(got, Raised):
        J.fail(what, f"raised {got.name}: {got.message[:300]}")
    J.is_tensor(got, what)
    if got.value.shape != (n_layers, 3):
        J.fail(what, f"expected a tensor of shape (n_layers, 3) = ({n_layers}, 3): one row (mean, std, saturated "
                    f"fraction) per layer, the input not included; got shape {tuple(got.value.shape)}")
    J.dtype_is(got, "float64", what, hint=N_("build the result with dtype=torch.float64"))
    return got.value


def _stats_case(init, activation, seed, prop=None, twice=False, gseed=0):
    """activation_stats(init, activation, **SIZE, generator=generator(gseed)), judged by the visible test's property
    check ``prop`` (if any) and against the reference's statistics; ``twice``: a second call and the global probe."""
    label = f"activation_stats({init!r}, {activation!r}, n_layers=6, width=128, n_samples=200) [{INITS[init]}]"
    steps = [library("torch.manual_seed", seed),
             call("activation_stats", init, activation, generator=generator(gseed), record="stats", **SIZE)]
    if twice:
        steps += [call("activation_stats", init, activation, generator=generator(gseed), record="again", **SIZE),
                  *_probe_steps()]
    tol_log_std, tol_mean, tol_sat = TOL[activation]

    def judge(got, expected):
        stats = _stats(got["stats"], label, SIZE["n_layers"])
        if twice:
            if not np.array_equal(stats, _stats(got["again"], label, SIZE["n_layers"])):
                J.fail(label, "the same seed must give the same statistics: draw the inputs and every weight from the "
                             "generator argument", GENERATOR_HINT)
            _global_untouched(got, expected, label, GENERATOR_HINT)
        if prop:
            prop(stats, label)
        reference = expected["stats"].value
        for layer in range(SIZE["n_layers"]):
            (mean, std, sat), (ref_mean, ref_std, ref_sat) = stats[layer], reference[layer]
            at = f"{label}, layer {layer + 1}"
            if not abs(mean - ref_mean) < tol_mean * ref_std:
                J.fail(at, f"mean {mean:.4g}, expected about {ref_mean:.4g} (within {tol_mean} reference stds, "
                          f"{tol_mean * ref_std:.3g}): {AFTER}")
            if not (std > 0 and abs(math.log(std / ref_std)) < tol_log_std):
                J.fail(at, f"std {std:.4g}, expected about {ref_std:.4g} (within a factor {math.exp(tol_log_std):.3f})."
                          f" The weights are {INITS[init]}, and {AFTER}")
            if not abs(sat - ref_sat) < tol_sat:
                J.fail(at, f"saturated fraction {sat:.4f}, expected about {ref_sat:.4f} (within {tol_sat}): "
                          f"{SATURATION}")

    def quantities(got):
        # 5 standard errors of the difference of two independent runs are TOL: each run's standard error is
        # TOL / (5 sqrt 2) (the mean's in units of the run's own std)
        stats = got["stats"]
        if not isinstance(stats, Array):
            return {}
        values = np.asarray(stats.value, dtype=np.float64)
        out = {"shape": tuple(values.shape), "dtype": stats.dtype}
        if twice and isinstance(got["again"], Array):
            out["same seed, same statistics"] = bool(np.array_equal(values, got["again"].value))
        if values.ndim != 2 or values.shape[1] != 3:
            return out
        unit = 5 * math.sqrt(2)
        for layer, (mean, std, sat) in enumerate(values):
            out[f"layer {layer + 1} mean"] = Estimate(float(mean), tol_mean * abs(float(std)) / unit)
            out[f"layer {layer + 1} log std"] = Estimate(math.log(std) if std > 0 else -math.inf, tol_log_std / unit)
            out[f"layer {layer + 1} saturated"] = Estimate(float(sat), tol_sat / unit)
        return out

    return Case(label=label, steps=steps, judge=judge, random=("stats", "again"), quantities=quantities)


def _he_relu(stats, label):
    # A relu zeroes about half of the activations: 128 units (all samples of a unit share its weights) each
    # contribute a fraction in [0, 1], so 5 standard errors are at most 5 * 0.5 / sqrt(128) = 0.22.
    if not (np.abs(stats[:, 2] - 0.5) < 0.22).all():
        J.fail(label, f"He + relu: the saturated fraction (activations exactly 0) should be about 0.5 in every layer, "
                     f"got {np.round(stats[:, 2], 4).tolist()}; {AFTER}")
    if not ((stats[:, 1] > stats[0, 1] / 2).all() and (stats[:, 1] < stats[0, 1] * 2).all()):
        J.fail(label, f"He + relu keeps the standard deviation of the activations steady, got "
                     f"{np.round(stats[:, 1], 4).tolist()}: 'he' draws {INITS['he']}")


def _xavier_relu(stats, label):
    if not stats[-1, 1] < stats[0, 1] / 3:
        J.fail(label, f"Xavier + relu: the std should shrink by about 1/sqrt(2) per layer (0.18 over 5 layers), got "
                     f"{np.round(stats[:, 1], 4).tolist()}: 'xavier' draws {INITS['xavier']}")


def _normal_sigmoid(stats, label):
    if not (stats[:, 2] > 0.5).all():
        J.fail(label, f"std-1 weights + sigmoid: most activations are saturated (below 0.01 or above 0.99), got "
                     f"fractions {np.round(stats[:, 2], 4).tolist()}; 'normal' means {INITS['normal']}, and {AFTER}")


def _xavier_tanh(stats, label):
    if not ((stats[1:, 2] < 0.05).all() and (stats[:, 1] > 0.1).all()):
        J.fail(label, f"Xavier + tanh: a healthy spread (std > 0.1) with almost no unit beyond |tanh| > 0.97, got std "
                     f"{np.round(stats[:, 1], 4).tolist()} and saturated fractions "
                     f"{np.round(stats[:, 2], 4).tolist()}")


# -- input_share: the judgment part ----------------------------------------------------------------------------
SHARE_RULE = N_("the mean over units of each unit's variance across the inputs (axis=0, ddof=0), divided by the "
                "pooled variance of all the activations (ddof=0)")


def _share_alternatives(a):
    pooled = a.var()
    return {
        "units": (a.var(axis=1).mean() / pooled,
                  "your share measures the spread across UNITS for each input (axis=1): the input dependence is each "
                  "unit's variance across the inputs (axis=0, down the rows)"),
        "std": (a.std(axis=0).mean() / a.std(),
                "your share is a ratio of standard deviations: the law of total variance splits VARIANCES, so divide "
                "the mean per-unit variance by the pooled variance"),
        "ddof": (a.var(axis=0, ddof=1).mean() / pooled,
                 "your per-unit variances use ddof=1 while the pooled one uses ddof=0: use ddof=0 for both (then the "
                 "share is at most 1)"),
    }


def _share_case(a, label=None):
    a = np.asarray(a, dtype=float)

    def compare(got, expected, what):
        value = J.numbers(got, what)
        if value.size != 1 or np.iscomplexobj(value):
            raise J.Fail(N_(f"{what}: expected one number (the share), got {J.describe(got)}"))
        value = float(value.reshape(()))
        want = float(J.numbers(expected, what).reshape(()))
        if not abs(value - want) <= 1e-12 + 1e-9 * abs(want):
            hint = next((text for alt, text in _share_alternatives(a).values()
                         if abs(value - alt) <= 1e-12 + 1e-9 * abs(alt)), SHARE_RULE)
            raise J.Fail(N_(f"{what}: expected {want:.10g}, got {value:.10g}\n{hint}"))

    return function_case("input_share", a, compare=compare, label=label, hint=SHARE_RULE)


def _deep_layer(rng, activation, scale, depth, n, width):
    x = rng.normal(size=(n, width))
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[activation]
    std = {"Xavier": 1 / np.sqrt(width), "He": np.sqrt(2 / width), "std 1": 1.0}[scale]
    for _ in range(depth):
        x = f(x @ rng.normal(scale=std, size=(width, width)).T)
    return x


def input_share_cases(draw):
    visible = np.array([[0.0, 5.0, 1.0], [2.0, 5.0, 3.0], [4.0, 6.0, 2.0], [2.0, 4.0, 2.0]])
    yield _share_case(visible)
    yield _share_case(np.array([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0]]))  # every input the same: forgotten, share 0
    rng = np.random.default_rng(31)
    yield _share_case(_deep_layer(rng, "sigmoid", "Xavier", 10, 60, 32),
                      label="input_share(layer 10 of a Xavier + sigmoid net: the input is forgotten)")
    yield _share_case(_deep_layer(rng, "tanh", "Xavier", 10, 60, 32),
                      label="input_share(layer 10 of a Xavier + tanh net)")
    rng = draw.numpy(302)
    for activation in ("sigmoid", "tanh", "relu", "sigmoid", "tanh", "relu"):
        scale = str(rng.choice(["Xavier", "He", "std 1"]))
        depth, n, width = int(rng.integers(1, 13)), int(rng.integers(20, 80)), int(rng.integers(6, 24))
        layer = _deep_layer(rng, activation, scale, depth, n, width)
        if layer.var() > 1e-200:  # a relu layer with every unit dead has no share: not drawn
            yield _share_case(layer, label=f"input_share(layer {depth} of a {scale} + {activation} net, {n} inputs, "
                                           f"{width} units)")
    yield function_case("input_share", np.full((4, 3), 0.5),
                        hint=N_("nothing varies at all (pooled variance 0): the share is undefined, raise ValueError"))
    yield function_case("input_share", np.array([[0.1, 0.2, 0.3]]),
                        hint=N_("one input has no spread across inputs: at least 2 rows, else raise ValueError"))


def activation_stats_cases(draw):
    # the visible test's cases first, with its property checks
    yield _stats_case("he", "relu", 70, _he_relu, twice=True)
    yield _stats_case("xavier", "relu", 71, _xavier_relu)
    yield _stats_case("normal", "sigmoid", 72, _normal_sigmoid)
    yield _stats_case("xavier", "tanh", 73, _xavier_tanh)
    yield _raising("activation_stats", "glorot", "tanh", generator=generator(0), **SIZE,
                   hint=N_("init='glorot' must raise ValueError: only 'normal', 'xavier' and 'he' exist"))
    for seed, (init, activation) in enumerate([("normal", "tanh"), ("normal", "relu"), ("xavier", "sigmoid"),
                                               ("he", "sigmoid"), ("he", "tanh")]):
        yield _stats_case(init, activation, 80 + seed, gseed=draw.seed(80 + seed) % 2**31)
    yield _none_case("activation_stats", 90, "he", "relu", n_layers=2, width=16, n_samples=20,
                     label="activation_stats('he', 'relu', n_layers=2, width=16, n_samples=20) with generator=None, "
                           "called twice")
    yield _raising("activation_stats", "he", "softplus", generator=generator(0), **SIZE,
                   hint=N_("activation='softplus' must raise ValueError: only 'sigmoid', 'tanh' and 'relu' exist"))


CHAPTER = Chapter(
    id="03-weight-init",
    title="Weight initialization",
    reference=("solutions.init",),
    tests=(
        Test("test_fan_in_and_fan_out", "fan_in_and_fan_out", "fan_in_and_fan_out(shape)", fan_in_and_fan_out_cases),
        Test("test_calculate_gain", "calculate_gain", "calculate_gain(nonlinearity, param=None)",
             calculate_gain_cases),
        Test("test_xavier_uniform", "xavier_uniform", "xavier_uniform(shape, gain=1.0, generator=None)",
             xavier_uniform_cases),
        Test("test_xavier_normal", "xavier_normal", "xavier_normal(shape, gain=1.0, generator=None)",
             xavier_normal_cases),
        Test("test_kaiming_uniform", "kaiming_uniform",
             'kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None)',
             kaiming_uniform_cases),
        Test("test_kaiming_normal", "kaiming_normal",
             'kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None)',
             kaiming_normal_cases),
        Test("test_activation_stats", "activation_stats",
             "activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None)",
             activation_stats_cases),
        Test("test_input_share", "input_share", "input_share(activations)", input_share_cases),
    ),
    mistakes="solutions.mistakes.ch03_weight_init",
    budget_seconds=20.0,
    setup=("import contextlib", "import math", "import unittest.mock", "import numpy as np", "import torch"),
)
