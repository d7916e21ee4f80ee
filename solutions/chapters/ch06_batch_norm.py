"""Chapter 6: batch normalization. Graded: the forward pass with its cache, the backward pass from a cache, and a
BatchNorm1d module, all with the semantics of torch.nn.BatchNorm1d; and a judgment part, largest_trainable_lr, which
reads a learning-rate sweep (random sweeps drawn per batch seed: unsorted rates, diverged runs, ties at the threshold).

Inputs are chosen so that every catalogued mistake changes a number: small batches (N / (N - 1) is 2 at N = 2 and
1.5 at N = 3), momenta away from 0.5 (the two momentum conventions coincide there), eps large enough (1e-3 to 1) that
putting it outside the square root shows, non-zero means, gamma away from 1, beta away from 0, running statistics
away from their 0 / 1 start. Everything runs in float64: the reference and a correct answer differ by rounding
(~1e-14 relative), every modelled mistake by more than 1e-4, so comparisons use rtol 1e-8 (room for another
summation order or E[x^2] - E[x]^2 with means ~10).

Each answer is judged on its own: batchnorm_backward receives caches built here with the reference forward (the
dict {"xhat", "gamma", "inv_std"} the notebook specifies), and BatchNorm1d is self-contained (the notebook asks for
the normalization inside forward; a module that calls a wrong batchnorm_forward legitimately fails too). When an
output differs, the judge compares it with the outputs of the usual mistakes, computed here from the case's
inputs, and names the one it matches.
"""

import numpy as np

from checks import judge as J
from checks.probe import Raised
from checks.spec import Case, Chapter, Test, attribute, call, function_case, let, method, record, var
from checks.tensors import lazy_torch, to_numpy
from checks.words import N_

RTOL, ATOL = 1e-8, 1e-10  # see the module docstring
CACHE_KEYS = ("xhat", "gamma", "inv_std")
FORWARD_ARGS = ("x", "gamma", "beta", "running_mean", "running_var")


def _inputs(seed, n, d):
    """x (n, d) with non-zero means and mixed scales, gamma, beta and running statistics away from 1, 0, 0, 1."""
    torch = lazy_torch()
    g = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    x = torch.randn(n, d, generator=g, dtype=f64) * (0.5 + 3 * torch.rand(d, generator=g, dtype=f64))
    x = x + 5 * torch.randn(d, generator=g, dtype=f64)
    gamma = 0.5 + 1.5 * torch.rand(d, generator=g, dtype=torch.float64)
    beta = torch.randn(d, generator=g, dtype=torch.float64)
    running_mean = torch.randn(d, generator=g, dtype=torch.float64)
    running_var = 0.5 + torch.rand(d, generator=g, dtype=torch.float64)
    return {"x": x, "gamma": gamma, "beta": beta, "running_mean": running_mean, "running_var": running_var}


def _t(values):
    torch = lazy_torch()
    return torch.tensor(values, dtype=torch.float64)


def _matches(got, candidate):
    return got.shape == candidate.shape and bool(np.allclose(got, candidate, rtol=1e-7, atol=1e-9, equal_nan=False))


def _compare(got, expected, what, generic, alternatives=()):
    """close(got, expected), naming the usual mistake whose output ``got`` equals when it differs."""
    exp = J.numbers(expected, what)
    hint = generic
    if not isinstance(got, Raised):
        values = J.numbers(got, what)
        for candidate, name in alternatives:
            if not _matches(exp, candidate) and _matches(values, candidate):
                hint = name
                break
    J.close(got, expected, what, hint, rtol=RTOL, atol=ATOL)


# -- batchnorm_forward -----------------------------------------------------------------------------
AXIS = ("statistics are per feature, over the batch (dim=0): your output matches statistics of each sample (dim=1), "
        "which is layer norm")
UNBIASED = ("normalize with the BIASED batch variance (divide by N: x.var(dim=0, correction=0)); your output matches "
            "the unbiased variance (divide by N - 1, torch.var's default)")
EPS_OUTSIDE = ("eps goes INSIDE the square root, (x - mean) / sqrt(var + eps); your output matches "
               "(x - mean) / (sqrt(var) + eps)")
NO_AFFINE = "scale and shift: out = gamma * xhat + beta; your output matches xhat, without gamma and beta"
TRAIN_OUT = ("training: normalize each feature over the batch (dim=0) with the batch mean and the BIASED variance, "
             "eps inside the square root, then out = gamma * xhat + beta")
EVAL_BATCH = ("with training=False normalize with running_mean and running_var, not with the batch statistics (your "
              "output matches the batch statistics)")
EVAL_OUT = ("with training=False normalize with running_mean and running_var (not the batch statistics), eps inside "
            "the square root, then gamma * xhat + beta")
REVERSED = ("reversed momentum: torch's convention is new = (1 - momentum) * old + momentum * batch; your running "
            "statistics match momentum * old + (1 - momentum) * batch (the Keras / CS231n convention)")
NOT_UPDATED = ("running statistics not updated: in training they move towards the batch statistics, "
               "new = (1 - momentum) * old + momentum * batch")
RV_BIASED = ("update running_var with the UNBIASED batch variance (N / (N - 1) times the biased one); your running_var "
             "matches the biased variance")
RM_GENERIC = "new_running_mean = (1 - momentum) * running_mean + momentum * batch mean (torch's momentum convention)"
RV_GENERIC = ("new_running_var = (1 - momentum) * running_var + momentum * UNBIASED batch variance (divide by N - 1, "
              "torch's momentum convention)")
EVAL_STATS = ("evaluation must not update the running statistics: with training=False return running_mean and "
              "running_var unchanged (as copies, clone())")
IN_PLACE = ("batchnorm_forward modified its input {name} in place: compute new tensors (no mul_/add_/copy_ on the "
            "arguments) and return them")
ALIAS = ("with training=False, new_{name} must be a new tensor ({name}.clone()), not {name} itself (nor "
         "{name}.detach(), which shares its memory): the test added 1000 to the returned statistics and your input "
         "{name} changed with them")
CACHE = {
    "xhat": "cache['xhat'] is the normalized input (x - mean) * inv_std of the statistics used (before gamma, beta)",
    "gamma": "cache['gamma'] is gamma, as given",
    "inv_std": "cache['inv_std'] is 1 / sqrt(var + eps) of the statistics used, shape (D,) (not the std itself)",
}
SINGLE_TRAIN = ("a batch of one sample in training must raise ValueError, as torch does ('Expected more than 1 value "
                "per channel when training'): its unbiased variance divides by N - 1 = 0")
SINGLE_EVAL = "evaluation accepts a single sample (only training needs N >= 2): do not raise when training=False"


def _forward_alternatives(args, training, momentum, eps):
    """{output index: [(output of a usual mistake, hint), ...]} for one call, computed from its inputs."""
    x, gamma, beta, rm, rv = (to_numpy(args[k]) for k in FORWARD_ARGS)
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0)
    if not training:
        return {0: [(gamma * (x - mean) / np.sqrt(var + eps) + beta, EVAL_BATCH),
                    ((x - rm) / np.sqrt(rv + eps), NO_AFFINE),
                    (gamma * (x - rm) / (np.sqrt(rv) + eps) + beta, EPS_OUTSIDE)], 1: [], 2: []}
    unbiased = var * n / (n - 1)
    rows = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    m = momentum
    return {
        0: [(gamma * (x - mean) / np.sqrt(unbiased + eps) + beta, UNBIASED),
            (gamma * (x - mean) / (np.sqrt(var) + eps) + beta, EPS_OUTSIDE),
            (gamma * rows + beta, AXIS),
            ((x - mean) / np.sqrt(var + eps), NO_AFFINE)],
        1: [(m * rm + (1 - m) * mean, REVERSED), (rm, NOT_UPDATED)],
        2: [((1 - m) * rv + m * var, RV_BIASED), (m * rv + (1 - m) * unbiased, REVERSED), (rv, NOT_UPDATED)],
    }


def _check_forward_result(got, expected, what, args, training, momentum, eps):
    """The 4-tuple of one call: out, the running statistics and the cache, against the reference's."""
    n = int(args["x"].shape[0])
    if isinstance(expected, Raised):
        J.raises(got, expected.name, what, SINGLE_TRAIN if n == 1 else "")
        return
    if isinstance(got, Raised):
        J.fail(what, f"raised {got.name}: {got.message[:300]}", SINGLE_EVAL if n == 1 and not training else "")
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        J.fail(what, f"must return the tuple (out, new_running_mean, new_running_var, cache), got {J.describe(got)}")
    alternatives = _forward_alternatives(args, training, momentum, eps)
    _compare(got[0], expected[0], f"{what}: out", TRAIN_OUT if training else EVAL_OUT, alternatives[0])
    for k, name, generic in ((1, "new_running_mean", RM_GENERIC), (2, "new_running_var", RV_GENERIC)):
        _compare(got[k], expected[k], f"{what}: {name}", generic if training else EVAL_STATS, alternatives[k])
    cache, exp_cache = got[3], expected[3]
    if not isinstance(cache, dict) or not set(CACHE_KEYS) <= set(cache):
        shown = f"a dict with keys {sorted(map(str, cache))}" if isinstance(cache, dict) else J.describe(cache)
        J.fail(what, f"cache must be the dict {{'xhat': xhat, 'gamma': gamma, 'inv_std': inv_std}}, got {shown}",
              "batchnorm_backward reads exactly these three entries (the tests build caches of that form)")
    for key in CACHE_KEYS:
        J.close(cache[key], exp_cache[key], f"{what}: cache[{key!r}]", CACHE[key], rtol=RTOL, atol=ATOL)


def _forward_case(label, args, *, training=None, momentum=None, eps=None, grad=None, alias=False):
    """One call of batchnorm_forward on ``args`` (keyword arguments left out stay at their defaults).

    ``grad``: upstream gradient of ``out``; x, gamma and beta then require grad and the case backpropagates.
    ``alias``: afterwards add 1000 to the returned running statistics and record the inputs again.
    """
    kwargs = {k: v for k, v in (("training", training), ("momentum", momentum), ("eps", eps)) if v is not None}
    training = True if training is None else training
    momentum = 0.1 if momentum is None else momentum
    eps = 1e-5 if eps is None else eps
    steps = []
    for name in FORWARD_ARGS:
        value = args[name].clone()
        if grad is not None and name in ("x", "gamma", "beta"):
            value.requires_grad_(True)
        steps.append(let(name, value))
    steps.append(call("batchnorm_forward", *[var(n) for n in FORWARD_ARGS], save="result", record="result", **kwargs))
    steps += [record(f"{name} after", var(name)) for name in FORWARD_ARGS]
    if alias:
        for k, name in ((1, "running_mean"), (2, "running_var")):
            steps += [let(f"new_{name}", var("result", k)), method(f"new_{name}", "add_", 1000.0)]
        steps += [record(f"{name} after updating new_{name}", var(name)) for name in ("running_mean", "running_var")]
    if grad is not None:
        steps += [let("out", var("result", 0)), attribute("out", "requires_grad", record="out.requires_grad")]
        for k, name in ((1, "new_running_mean"), (2, "new_running_var")):
            steps += [let(name, var("result", k)), attribute(name, "requires_grad", record=f"{name}.requires_grad")]
        steps += [method("out", "backward", grad, record="backward")]
        steps += [attribute(name, "grad", record=f"{name}.grad") for name in ("x", "gamma", "beta")]

    def judge(got, expected):
        result = got["result"]
        if not isinstance(expected["result"], Raised) and not isinstance(result, Raised):
            for name in FORWARD_ARGS:
                J.close(got[f"{name} after"], to_numpy(args[name]), f"{label}: {name} after the call", rtol=0, atol=0,
                        hint=IN_PLACE.format(name=name))
        _check_forward_result(result, expected["result"], label, args, training, momentum, eps)
        if alias:
            for name in ("running_mean", "running_var"):
                J.close(got[f"{name} after updating new_{name}"], to_numpy(args[name]),
                        f"{label}: {name} after adding 1000 to the returned new_{name}", rtol=0, atol=0,
                        hint=ALIAS.format(name=name))
        if grad is not None:
            if got["out.requires_grad"] is not True:
                J.fail(label, "out does not require grad although x, gamma and beta do: compute out with torch "
                             "operations only (no .detach(), torch.no_grad() or numpy on the way to out)")
            for name in ("new_running_mean", "new_running_var"):
                if got[f"{name}.requires_grad"] is not False:
                    J.fail(label, f"{name} carries autograd history (requires_grad=True): detach the batch statistics "
                                 "(mean.detach(), var.detach()) before mixing them into the running ones; running "
                                 "statistics are not trained")
            for name in ("x", "gamma", "beta"):
                J.close(got[f"{name}.grad"], expected[f"{name}.grad"],
                        f"{label}: gradient of sum(grad_out * out) with respect to {name} (autograd)",
                        "out must be computed from x, gamma and beta with torch operations, so that autograd "
                        "differentiates it", rtol=RTOL, atol=ATOL)

    return Case(label=label, steps=steps, judge=judge)


def _sequence_case(label, seed, schedule, momentum, eps):
    """Calls of batchnorm_forward that feed the returned running statistics back in (the student's own)."""
    from solutions.batchnorm import batchnorm_forward as reference

    torch = lazy_torch()
    d = 4
    base = _inputs(seed, 2, d)
    state = (torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64))
    steps = [let("gamma", base["gamma"]), let("beta", base["beta"]), let("state0", state)]
    calls = []
    for k, (training, n) in enumerate(schedule):
        x = _inputs(seed + 1 + k, n, d)["x"]
        args = {"x": x, "gamma": base["gamma"], "beta": base["beta"], "running_mean": state[0],
                "running_var": state[1]}
        steps += [let(f"x{k}", x),
                  call("batchnorm_forward", var(f"x{k}"), var("gamma"), var("beta"), var(f"state{k}", 0),
                       var(f"state{k}", 1), training=training, momentum=momentum, eps=eps, save=f"result{k}",
                       record=f"call {k}"),
                  let(f"state{k + 1}", (var(f"result{k}", 1), var(f"result{k}", 2)))]
        calls.append((args, training))
        state = reference(x, args["gamma"], args["beta"], *state, training=training, momentum=momentum, eps=eps)[1:3]

    def judge(got, expected):
        for k, (args, training) in enumerate(calls):
            what = (f"{label}: call {k} (training={training}, N={int(args['x'].shape[0])}, with the running "
                    "statistics returned by the call before)")
            _check_forward_result(got[f"call {k}"], expected[f"call {k}"], what, args, training, momentum, eps)

    return Case(label=label, steps=steps, judge=judge)


def batchnorm_forward_cases(draw):
    torch = lazy_torch()
    ones, zeros = torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    x = _t([[1.0, 10.0], [2.0, 30.0], [6.0, 20.0]])
    yield _forward_case("batchnorm_forward(x of shape (3, 2), gamma=1, beta=0, defaults) [visible case]",
                        {"x": x, "gamma": ones, "beta": zeros, "running_mean": zeros, "running_var": ones})

    def one_feature(values, gamma, beta, eps, what):
        args = {"x": _t(values)[:, None], "gamma": _t([gamma]), "beta": _t([beta]), "running_mean": _t([0.0]),
                "running_var": _t([1.0])}
        return _forward_case(f"batchnorm_forward(one feature x = {values}, gamma={gamma}, beta={beta}, eps={eps}) "
                             f"[visible case: {what}]", args, eps=eps)

    yield one_feature([1.0, 3.0], 1.0, 0.0, 1e-12, "biased variance")
    yield one_feature([1.0, 3.0], 1.0, 0.0, 1.0, "eps inside the square root")
    yield one_feature([1.0, 3.0], 3.0, -1.0, 1e-12, "scale and shift")
    oracle = {"x": _t([[1.0, -2.0, 10.0], [3.0, 0.0, 14.0], [8.0, 1.0, 12.5]]), "gamma": _t([1.5, 0.5, 2.0]),
              "beta": _t([0.1, -1.0, 3.0]), "running_mean": _t([0.5, -0.5, 9.0]), "running_var": _t([2.0, 0.5, 3.0])}
    yield _forward_case("batchnorm_forward(x of shape (3, 3), momentum=0.3, eps=1e-3) [visible case: training]", oracle,
                        training=True, momentum=0.3, eps=1e-3)
    # evaluation with the running statistics after that training call (torch.nn.BatchNorm1d's, as in the notebook)
    from solutions.batchnorm import batchnorm_forward as reference

    trained = reference(*(oracle[k] for k in FORWARD_ARGS), momentum=0.3, eps=1e-3)
    after = dict(oracle, running_mean=trained[1], running_var=trained[2])
    yield _forward_case("batchnorm_forward(x of shape (3, 3), training=False, momentum=0.3, eps=1e-3) "
                        "[visible case: evaluation]", after, training=False, momentum=0.3, eps=1e-3, alias=True)
    for seed, (n, d), momentum, eps in [(1, (2, 3), 0.3, 1e-3), (2, (5, 4), 0.05, 1e-5), (3, (16, 7), 0.8, 1e-2)]:
        args = _inputs(draw.seed(seed), n, d)
        for training in (True, False):
            yield _forward_case(f"batchnorm_forward(random x of shape {(n, d)}, training={training}, "
                                f"momentum={momentum}, eps={eps})", args, training=training, momentum=momentum,
                                eps=eps, alias=not training)
    yield _sequence_case("batchnorm_forward over a sequence of calls (momentum=0.2, eps=1e-3)", draw.seed(10),
                         [(True, 3), (True, 2), (False, 5), (True, 6), (False, 1)], 0.2, 1e-3)
    args = _inputs(draw.seed(20), 6, 3)
    grad = _inputs(draw.seed(21), 6, 3)["x"] / 5
    yield _forward_case("batchnorm_forward(x of shape (6, 3) requiring grad, momentum=0.25, eps=1e-2), then "
                        "out.backward(grad_out)", args, momentum=0.25, eps=1e-2, grad=grad)
    yield _forward_case("batchnorm_forward(x of shape (6, 3) requiring grad, training=False, eps=1e-2), then "
                        "out.backward(grad_out)", args, training=False, eps=1e-2, grad=grad)
    single = _inputs(22, 1, 3)
    yield _forward_case("batchnorm_forward(x of shape (1, 3), training=True)", single, training=True)
    yield _forward_case("batchnorm_forward(x of shape (1, 3), training=False)", single, training=False)


# -- batchnorm_backward ----------------------------------------------------------------------------
DBETA = "dbeta = sum over the batch (dim=0) of grad_out, one entry per feature (not the mean)"
DGAMMA = ("dgamma = sum over the batch (dim=0) of grad_out * xhat, with xhat the NORMALIZED input cache['xhat'] "
          "(not x, not x - mean)")
DX_GENERIC = ("dx: x_i reaches the loss through three paths, directly through xhat_i, through the batch mean and "
              "through the batch variance; backpropagate node by node and check with "
              "gradient_check(batchnorm_backward)")
NO_MEAN = ("dx must sum to zero over the batch for every feature (adding a constant to a feature does not change the "
           "output): the path through the batch mean is missing")
NO_VAR = ("the path through the batch variance is missing: your dx matches the gradient with the variance held "
          "constant (through xhat and the mean only)")
CONSTANT = ("the path through the batch mean is missing, and the one through the variance too: your dx matches "
            "grad_out * gamma * inv_std, the gradient of the evaluation pass, where the statistics are constants")
NO_GAMMA = "dxhat = grad_out * gamma: your dx matches the gradient without the factor gamma"
VAR_PATH = ("the path through the batch variance is wrong: sum over the batch of dx * xhat must equal "
            "inv_std * (1 - mean(xhat^2)) * sum(grad_out * gamma * xhat), close to 0 when eps is negligible")


def _backward_case(label, args, grad_out, eps):
    """batchnorm_backward(grad_out, cache) for a cache made here by the reference forward (training, ``eps``)."""
    from solutions.batchnorm import batchnorm_forward as reference

    cache = reference(*(args[k] for k in FORWARD_ARGS), eps=eps)[3]
    cache = {key: cache[key].clone() for key in CACHE_KEYS}  # the notebook's format: these three entries
    xhat, gamma, inv_std = (to_numpy(cache[k]) for k in CACHE_KEYS)
    g = to_numpy(grad_out)
    n = g.shape[0]
    dxhat = g * gamma
    steps = [let("grad_out", grad_out), let("cache", cache),
             call("batchnorm_backward", var("grad_out"), var("cache"), save="result", record="result"),
             record("grad_out after", var("grad_out")), record("cache after", var("cache"))]

    def full(upstream):
        return inv_std / n * (n * upstream - upstream.sum(0) - xhat * (upstream * xhat).sum(0))

    alternatives = [(inv_std * (dxhat - dxhat.mean(0)), NO_VAR), (full(g), NO_GAMMA),
                    (dxhat * inv_std, CONSTANT), (inv_std * (dxhat - xhat * (dxhat * xhat).mean(0)), NO_MEAN)]

    def judge(got, expected):
        result = got["result"]
        if isinstance(result, Raised):
            J.fail(label, f"raised {result.name}: {result.message[:300]}",
                  "the cache is the dict {'xhat', 'gamma', 'inv_std'} of part 1; read only these three entries")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            J.fail(label, f"must return the tuple (dx, dgamma, dbeta), got {J.describe(result)}")
        J.close(got["grad_out after"], g, f"{label}: grad_out after the call", rtol=0, atol=0,
                hint=N_("batchnorm_backward modified grad_out in place: compute new tensors"))
        after = got["cache after"]
        for key in CACHE_KEYS:
            J.close(after[key], to_numpy(cache[key]), f"{label}: cache[{key!r}] after the call", rtol=0, atol=0,
                    hint=N_("batchnorm_backward modified the cache in place: compute new tensors"))
        dx, dgamma, dbeta = result
        exp_dx, exp_dgamma, exp_dbeta = expected["result"]
        J.close(dbeta, exp_dbeta, f"{label}: dbeta", DBETA, rtol=RTOL, atol=ATOL)
        J.close(dgamma, exp_dgamma, f"{label}: dgamma", DGAMMA, rtol=RTOL, atol=ATOL)
        hint = DX_GENERIC
        values = J.numbers(dx, f"{label}: dx")
        if values.shape == xhat.shape:
            named = [h for candidate, h in alternatives if _matches(values, candidate)]
            if named:
                hint = named[0]
            elif not np.allclose(values.sum(0), 0.0, atol=1e-9 * max(1.0, float(np.abs(values).max()))):
                hint = NO_MEAN
            else:
                target = inv_std * (1 - (xhat**2).mean(0)) * (dxhat * xhat).sum(0)
                if not np.allclose((values * xhat).sum(0), target, rtol=1e-6, atol=1e-9):
                    hint = VAR_PATH
        J.close(dx, exp_dx, f"{label}: dx", hint, rtol=RTOL, atol=ATOL)

    return Case(label=label, steps=steps, judge=judge)


def batchnorm_backward_cases(draw):
    visible = {"x": _t([[1.0, -2.0, 10.0], [3.0, 0.0, 14.0], [8.0, 1.0, 12.5], [0.0, -4.0, 11.0]]),
               "gamma": _t([1.5, 0.5, 2.0]), "beta": _t([0.1, -1.0, 3.0]), "running_mean": _t([0.0, 0.0, 0.0]),
               "running_var": _t([1.0, 1.0, 1.0])}
    grad_out = _t([[0.3, -1.0, 2.0], [1.2, 0.4, -0.5], [-0.7, 0.9, 0.8], [0.5, 1.5, -1.1]])
    for eps in (1e-12, 1e-5):
        yield _backward_case(f"batchnorm_backward(grad_out, cache) for x of shape (4, 3), eps={eps} [visible case]",
                             visible, grad_out, eps)
    for seed, (n, d), eps in [(31, (2, 3), 1e-3), (32, (5, 4), 1e-5), (33, (16, 6), 1e-2), (34, (3, 1), 0.5)]:
        args = _inputs(draw.seed(seed), n, d)
        upstream = _inputs(draw.seed(seed + 100), n, d)["x"] / 4 + 0.5
        yield _backward_case(f"batchnorm_backward(grad_out, cache) for a random x of shape {(n, d)}, eps={eps}",
                             args, upstream, eps)


# -- BatchNorm1d -----------------------------------------------------------------------------------
BUFFER_HINT = (N_("in training update the buffers: new = (1 - momentum) * old + momentum * batch statistic (UNBIASED "
               "variance for running_var); in evaluation leave them alone"))
EVAL_MODULE = "after .eval() normalize with the running statistics (check self.training), not the batch statistics"
TRAIN_MODULE = ("in training mode normalize with the batch mean and BIASED variance, eps inside the square root, then "
                "weight * xhat + bias")


def _registration_case():
    label = "BatchNorm1d(3, eps=1e-3, momentum=0.3): parameters and buffers"
    steps = [call("BatchNorm1d", 3, eps=1e-3, momentum=0.3, save="bn"),
             method("bn", "get_parameter", "weight", record="weight"),
             method("bn", "get_parameter", "bias", record="bias"),
             method("bn", "get_buffer", "running_mean", record="running_mean"),
             method("bn", "get_buffer", "running_var", record="running_var")]
    start = {"weight": [1.0, 1.0, 1.0], "bias": [0.0, 0.0, 0.0], "running_mean": [0.0, 0.0, 0.0],
             "running_var": [1.0, 1.0, 1.0]}

    def judge(got, expected):
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = got[name]
            if isinstance(value, Raised):
                if name in ("weight", "bias"):
                    J.fail(label, f"module.get_parameter({name!r}) raised {value.name}: {value.message[:200]}",
                          f"{name} must be a torch.nn.Parameter (self.{name} = torch.nn.Parameter(...)): a plain "
                          "tensor is not a Parameter, so optimizers never see it")
                J.fail(label, f"module.get_buffer({name!r}) raised {value.name}: {value.message[:200]}",
                      f"{name} must be registered with self.register_buffer({name!r}, ...): a plain tensor attribute "
                      "is not saved in state_dict() and does not follow .to() or .double()")
            J.close(value, np.array(start[name]), f"{label}: {name}",
                    f"{name} must start at {start[name]}, as in torch", rtol=0, atol=0)

    return Case(label=label, steps=steps, judge=judge)


def _module_sequence_case(label, d, calls, eps=None, momentum=None, weight=None, bias=None):
    """A BatchNorm1d (float64) through train / eval calls: outputs, buffers and gradients after every call.

    ``calls``: [(training, x, grad_out), ...]; ``weight`` / ``bias``: values written into the parameters first.
    """
    kwargs = {k: v for k, v in (("eps", eps), ("momentum", momentum)) if v is not None}
    steps = [call("BatchNorm1d", d, save="bn", **kwargs), method("bn", "double")]
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None:  # through .data: works for a Parameter and for a plain tensor alike
            steps += [attribute("bn", name, save=name), attribute(name, "data", save=f"{name}_data"),
                      method(f"{name}_data", "copy_", value)]
    schedule = []
    for k, (training, x, grad_out) in enumerate(calls):
        steps += [method("bn", "train", training), let(f"x{k}", x.clone().requires_grad_(True)),
                  method("bn", "__call__", var(f"x{k}"), save=f"out{k}", record=f"output {k}")]
        for name in ("running_mean", "running_var"):
            steps += [attribute("bn", name, save=f"{name}{k}", record=f"{name} {k}"),
                      attribute(f"{name}{k}", "requires_grad", record=f"{name} {k} requires_grad")]
        steps += [method(f"out{k}", "backward", grad_out, record=f"backward {k}"),
                  attribute(f"x{k}", "grad", record=f"x.grad {k}")]
        for name in ("weight", "bias"):
            steps += [attribute("bn", name, save=f"{name}{k}"),
                      attribute(f"{name}{k}", "grad", record=f"{name}.grad {k}")]
        schedule.append((training, int(x.shape[0])))

    def judge(got, expected):
        for k, (training, n) in enumerate(schedule):
            mode = "training" if training else "eval"
            what = f"{label}: call {k} ({mode}, N={n})"
            out = got[f"output {k}"]
            J.is_tensor(out, f"{what}: output")
            J.close(out, expected[f"output {k}"], f"{what}: output", TRAIN_MODULE if training else EVAL_MODULE,
                    rtol=RTOL, atol=ATOL)
            for name in ("running_mean", "running_var"):
                if got[f"{name} {k} requires_grad"] is not False:
                    J.fail(what, f"{name} carries autograd history (requires_grad=True): update the buffers under "
                                "torch.no_grad() with copy_ (or from detached tensors); running statistics are not "
                                "trained")
                J.close(got[f"{name} {k}"], expected[f"{name} {k}"], f"{what}: {name}", BUFFER_HINT, rtol=RTOL,
                        atol=ATOL)
            if isinstance(got[f"backward {k}"], Raised):
                J.fail(what, f"output.backward(grad_out) raised {got[f'backward {k}'].name}: "
                            f"{got[f'backward {k}'].message[:200]}",
                      "the output must be computed from x, self.weight and self.bias with torch operations")
            J.close(got[f"x.grad {k}"], expected[f"x.grad {k}"], f"{what}: gradient with respect to x (autograd)",
                    "the output must be computed from x with torch operations (autograd differentiates it)",
                    rtol=RTOL, atol=ATOL)
            for name in ("weight", "bias"):
                J.close(got[f"{name}.grad {k}"], expected[f"{name}.grad {k}"],
                        f"{what}: {name}.grad (accumulated over the calls)",
                        "use the Parameters self.weight and self.bias in the forward pass", rtol=RTOL, atol=ATOL)

    return Case(label=label, steps=steps, judge=judge)


def _module_single_sample_case():
    torch = lazy_torch()
    label = "BatchNorm1d(3) in training mode on x of shape (1, 3)"
    steps = [call("BatchNorm1d", 3, save="bn"), method("bn", "train"),
             let("x", torch.tensor([[1.0, 2.0, 3.0]])), method("bn", "__call__", var("x"), record="out")]

    def judge(got, expected):
        J.raises(got["out"], expected["out"].name, label, SINGLE_TRAIN.replace("in training", "in training mode"))

    return Case(label=label, steps=steps, judge=judge)


def _random_calls(seed, d, schedule):
    calls = []
    for k, (training, n) in enumerate(schedule):
        data = _inputs(seed + k, n, d)
        calls.append((training, data["x"] * 0.7 - 1.0, data["running_mean"][None, :] + data["x"] / 3))
    return calls


def module_cases(draw):
    torch = lazy_torch()
    yield _registration_case()
    g = torch.Generator().manual_seed(0)  # the visible test's data, drawn in its order
    visible = []
    for training, n in [(True, 3), (True, 5), (False, 4), (True, 2), (False, 1)]:
        x = torch.randn(n, 3, generator=g, dtype=torch.float64) * 2 + _t([4.0, -1.0, 0.5])
        visible.append((training, x, torch.randn(n, 3, generator=g, dtype=torch.float64)))
    yield _module_sequence_case("BatchNorm1d(3, eps=1e-3, momentum=0.3) [visible case]", 3, visible, eps=1e-3,
                                momentum=0.3, weight=_t([1.5, 0.5, 2.0]), bias=_t([0.1, -1.0, 3.0]))
    base = _inputs(draw.seed(50), 2, 5)
    schedule = [(True, 2), (True, 7), (True, 3), (False, 6), (True, 4), (False, 2), (True, 9), (False, 1)]
    yield _module_sequence_case("BatchNorm1d(5, eps=1e-2, momentum=0.05)", 5, _random_calls(draw.seed(51), 5, schedule),
                                eps=1e-2, momentum=0.05, weight=base["gamma"], bias=base["beta"])
    yield _module_sequence_case("BatchNorm1d(4) with the default eps and momentum, weight and bias untouched", 4,
                                _random_calls(draw.seed(61), 4, [(True, 6), (True, 3), (False, 5)]))
    yield _module_single_sample_case()


# -- largest_trainable_lr: the judgment part ---------------------------------------------------------------
def _trained_lr(lrs, curves, threshold, trains):
    good = [lr for lr, curve in zip(lrs, curves, strict=True) if trains(curve[-1], threshold)]
    return max(good) if good else None


def _first_failure_lr(lrs, curves, threshold):
    """Walk the sorted sweep upward and stop at the first run that fails (trainability assumed monotone)."""
    last = None
    for lr, curve in sorted(zip(lrs, curves, strict=True)):
        if not curve[-1] < threshold:
            break
        last = lr
    return last


def _list_order_lr(lrs, curves, threshold):
    """The last run that trained in the order given (the sweep assumed sorted)."""
    good = [lr for lr, curve in zip(lrs, curves, strict=True) if curve[-1] < threshold]
    return good[-1] if good else None


def _lr_compare(lrs, curves, threshold):
    lowest = [lr for lr, curve in zip(lrs, curves, strict=True) if min(curve) < threshold]
    variants = [
        (max(lowest) if lowest else None,
         "This is what the LOWEST loss of each curve gives: a run can dip below the threshold, then diverge or "
         "climb back; the test is on the last loss."),
        (_trained_lr(lrs, curves, threshold, lambda last, t: not last >= t),
         "This is what counting a run that ends in NaN as trained gives: NaN >= threshold is False too, so "
         "'not (last >= threshold)' lets a diverged run through; test last < threshold."),
        (_trained_lr(lrs, curves, threshold, lambda last, t: last <= t),
         "This is what counting a last loss EQUAL to the threshold as trained gives: the test is strict, "
         "last < threshold."),
        (_first_failure_lr(lrs, curves, threshold),
         "This is the last rate before the first failure of the sorted sweep: a run can fail between two that "
         "train (here, look at every run), and the answer is the largest rate that trained."),
        (_list_order_lr(lrs, curves, threshold),
         "This is the last rate that trained in the ORDER GIVEN; the rates are not sorted: take the largest."),
        (max(lrs), "This is the largest rate tried, not the largest that trained."),
    ]

    def compare(got, expected, what):
        if isinstance(got, Raised):
            J.fail(what, f"raised {got.name}: {got.message[:300]}")
        value, want = J.scalar(got), J.scalar(expected)
        if value == want and (value is None) == (got is None):
            return
        rule = (f"the largest learning rate whose run trained (last loss < threshold = {threshold}; NaN and inf "
                "never are), None when no run trained")
        notes = [text for key, text in variants if key != want and key == value]
        J.fail(what, f"expected {want!r}, got {J.describe(got)}", " ".join([rule + "."] + notes))
    return compare


def _lr_case(label, lrs, curves, threshold):
    valid = len(lrs) > 0 and len(lrs) == len(curves)
    return function_case("largest_trainable_lr", list(lrs), [list(c) for c in curves], threshold, label=label,
                         compare=_lr_compare(list(lrs), [list(c) for c in curves], threshold) if valid else None,
                         hint=N_("raise ValueError for an empty sweep or one loss curve too many or too few"))


NAN, INF = float("nan"), float("inf")
VISIBLE_LRS = [0.01, 0.1, 1.0, 10.0]
VISIBLE_CURVES = [[2.0, 1.5, 1.0], [2.0, 0.5, 0.125], [2.0, 0.25, 0.0625], [2.0, 0.125, NAN]]


def _random_sweep(rng, n):
    """A log-spaced sweep: the final loss falls with the rate up to a divergence point, then NaN, inf or a huge
    loss; one run below the divergence point may fail on its own; losses on a grid of 1/64 (ties are exact)."""
    lrs = (10.0 ** np.round(np.linspace(-3, 1, n) + rng.uniform(-0.1, 0.1), 3)).tolist()
    diverge = int(rng.integers(n // 2, n))
    curves = []
    for i, lr in enumerate(lrs):
        epochs = int(rng.integers(3, 7))
        start = 2.0
        if i >= diverge:
            end = [NAN, INF, 1e4][int(rng.integers(0, 3))]
        else:
            end = float(np.round((0.02 + 0.4 * (lrs[0] / lr) ** 0.5 + rng.uniform(0, 0.1)) * 64) / 64)
        curves.append([start] + [float(np.round((start + (end - start) * (k + 1) / epochs) * 64) / 64)
                                 if np.isfinite(end) and end < 100 else start for k in range(epochs - 2)] + [end])
    if diverge > 2 and rng.random() < 0.7:
        curves[int(rng.integers(1, diverge - 1))][-1] = NAN  # a run that failed on its own (a bad seed)
    order = rng.permutation(n) if rng.random() < 0.5 else np.arange(n)
    return [lrs[i] for i in order], [curves[i] for i in order]


def largest_trainable_lr_cases(draw):
    yield _lr_case("largest_trainable_lr([0.01, 0.1, 1, 10], curves ending 1.0, 0.125, 0.0625, NaN, threshold=0.25) "
                   "[visible]", VISIBLE_LRS, VISIBLE_CURVES, 0.25)
    yield _lr_case("largest_trainable_lr where no run reaches the threshold (None) [visible]", VISIBLE_LRS,
                   VISIBLE_CURVES, 0.05)
    yield _lr_case("largest_trainable_lr([0.1, 0.3], curves ending 0.125 and 0.25, threshold=0.25): a last loss equal "
                   "to the threshold [visible]", [0.1, 0.3], [[1.0, 0.125], [1.0, 0.25]], 0.25)
    yield _lr_case("largest_trainable_lr with a last loss equal to the threshold", [0.1, 0.3, 1.0],
                   [[1.0, 0.5], [1.0, 0.25], [1.0, 0.125]], 0.125)
    yield _lr_case("largest_trainable_lr with a failed run between two that train, rates unsorted [visible]",
                   [3.0, 0.3, 1.0, 0.1], [[1.0, 0.0625], [1.0, 0.25], [1.0, INF], [1.0, 0.5]], 0.375)
    yield _lr_case("largest_trainable_lr where the largest rate ends in NaN", [0.5, 5.0], [[1.0, 0.25], [1.0, NAN]],
                   1.0)
    yield _lr_case("largest_trainable_lr where runs dip below the threshold, then diverge or climb back",
                   [0.1, 0.3, 1.0, 3.0], [[1.0, 0.5, 0.375], [1.0, 0.25, 0.125], [1.0, 0.0625, 0.5],
                                          [1.0, 0.03125, INF]], 0.25)
    for i, (n, threshold) in enumerate([(8, 0.25), (10, 0.375), (6, 0.5), (12, 0.25), (9, 0.3125), (7, 0.2)]):
        lrs, curves = _random_sweep(draw.numpy(900 + i), n)
        yield _lr_case(f"largest_trainable_lr on a random sweep of {n} learning rates, threshold={threshold}",
                       lrs, curves, threshold)
    yield _lr_case("largest_trainable_lr with 3 rates and 2 curves (must raise ValueError) [visible]", [0.1, 1.0, 10.0],
                   [[1.0, 0.5], [1.0, 0.25]], 0.3)
    yield _lr_case("largest_trainable_lr on an empty sweep (must raise ValueError)", [], [], 0.3)


CHAPTER = Chapter(
    id="06-batch-norm",
    title="Batch normalization",
    reference=("solutions.batchnorm",),
    tests=(
        Test("test_batchnorm_forward", "batchnorm_forward",
             "batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5)",
             batchnorm_forward_cases),
        Test("test_batchnorm_backward", "batchnorm_backward", "batchnorm_backward(grad_out, cache)",
             batchnorm_backward_cases),
        Test("test_BatchNorm1d", "BatchNorm1d",
             "class BatchNorm1d(torch.nn.Module): __init__(self, num_features, eps=1e-5, momentum=0.1), "
             "forward(self, x)",
             module_cases),
        Test("test_largest_trainable_lr", "largest_trainable_lr", "largest_trainable_lr(lrs, curves, threshold)",
             largest_trainable_lr_cases),
    ),
    mistakes="solutions.mistakes.ch06_batch_norm",
    budget_seconds=20.0,
    setup=("import torch", "import torch.nn.functional as F"),
)
