"""Correct rewrites and unseen mistakes of chapter 3."""

REWRITES = [
    # a loop instead of math.prod, ints from int()
    ("fan_in_and_fan_out", '''
def fan_in_and_fan_out(shape):
    dims = list(shape)
    if len(dims) < 2:
        raise ValueError("a weight has at least 2 dimensions")
    r = 1
    for k in dims[2:]:
        r *= int(k)
    return int(dims[1]) * r, int(dims[0]) * r
'''),
    # numpy inside, ints out
    ("fan_in_and_fan_out", '''
def fan_in_and_fan_out(shape):
    shape = np.asarray(tuple(shape), dtype=np.int64)
    if shape.ndim != 1 or shape.size < 2:
        raise ValueError("need (out, in, *kernel)")
    r = np.prod(shape[2:], dtype=np.int64)
    return int(shape[1] * r), int(shape[0] * r)
'''),
    # a table, ** 0.5 instead of math.sqrt
    ("calculate_gain", '''
def calculate_gain(nonlinearity, param=None):
    table = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0, "tanh": 5 / 3,
             "relu": 2 ** 0.5, "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return (2 / (1 + slope * slope)) ** 0.5
    if nonlinearity not in table:
        raise ValueError(f"no gain for {nonlinearity}")
    return table[nonlinearity]
'''),
    # (2u - 1) b from torch.rand, b as sqrt(3) * std
    ("xavier_uniform", '''
def xavier_uniform(shape, gain=1.0, generator=None):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("a weight has at least 2 dimensions")
    r = math.prod(shape[2:])
    fan_in, fan_out = shape[1] * r, shape[0] * r
    b = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return (2 * u - 1) * b
'''),
    # torch.normal with a size, an OS seed from the secrets module
    ("xavier_normal", '''
def xavier_normal(shape, gain=1.0, generator=None):
    import secrets
    if len(shape) < 2:
        raise ValueError("a weight has at least 2 dimensions")
    receptive = 1
    for k in shape[2:]:
        receptive *= k
    std = gain * (2.0 / ((shape[0] + shape[1]) * receptive)) ** 0.5
    if generator is None:
        generator = torch.Generator().manual_seed(secrets.randbits(63))
    return torch.normal(0.0, std, size=tuple(shape), generator=generator, dtype=torch.float64)
'''),
    # fans from a dict, torch.rand-based uniform, the sqrt(3) folded into the root
    ("kaiming_uniform", '''
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if len(shape) < 2:
        raise ValueError("a weight has at least 2 dimensions")
    r = math.prod(shape[2:])
    fans = {"fan_in": shape[1] * r, "fan_out": shape[0] * r}
    if mode not in fans:
        raise ValueError(mode)
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / fans[mode])
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    return torch.rand(tuple(shape), generator=generator, dtype=torch.float64).mul(2 * bound).sub(bound)
'''),
    # the student's own calculate_gain (correct here), randn * std
    ("kaiming_normal", '''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    shape = torch.Size(shape)
    if len(shape) < 2 or mode not in ("fan_in", "fan_out"):
        raise ValueError("bad shape or mode")
    r = shape[2:].numel()
    fan = shape[1] * r if mode == "fan_in" else shape[0] * r
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    std = calculate_gain(nonlinearity, a) / fan ** 0.5
    return torch.randn(shape, generator=generator, dtype=torch.float64) * std
'''),
    # another draw order (all weights first, then the inputs): independent samples, judged within the tolerances
    ("activation_stats", '''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    if init not in ("normal", "xavier", "he") or activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError((init, activation))
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    std = {"normal": 1.0, "xavier": 1.0 / math.sqrt(width), "he": math.sqrt(2.0 / width)}[init]
    weights = [torch.empty(width, width, dtype=torch.float64).normal_(0.0, std, generator=generator)
               for _ in range(n_layers)]
    x = torch.randn(n_samples, width, generator=generator, dtype=torch.float64)
    out = torch.empty(n_layers, 3, dtype=torch.float64)
    for layer, w in enumerate(weights):
        h = x @ w.T
        if activation == "sigmoid":
            x = torch.sigmoid(h)
            sat = torch.logical_or(x < 0.01, x > 0.99)
        elif activation == "tanh":
            x = torch.tanh(h)
            sat = torch.abs(x) > 0.97
        else:
            x = torch.clamp(h, min=0.0)
            sat = x == 0
        out[layer] = torch.stack([x.mean(), x.var(unbiased=False).sqrt(), sat.double().mean()])
    return out
'''),
    # the law of total variance: one minus the between-unit share (float cancellation: a few ulps of 1)
    ("input_share", '''
def input_share(activations):
    a = np.asarray(activations, dtype=float)
    if a.ndim != 2 or a.shape[0] < 2 or not np.isfinite(a).all():
        raise ValueError("activations: a finite (n_samples >= 2, n_units) array")
    pooled = np.mean((a - a.mean()) ** 2)
    if pooled == 0:
        raise ValueError("constant activations")
    return float(1 - np.mean((a.mean(axis=0) - a.mean()) ** 2) / pooled)
'''),
]

UNSEEN = [
    # the receptive field added instead of multiplied
    ("fan_in_and_fan_out", '''
def fan_in_and_fan_out(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("2 dimensions")
    r = sum(shape[2:]) or 1
    return shape[1] * r, shape[0] * r
''', ()),
    # tanh gain inverted (3/5)
    ("calculate_gain", '''
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 3.0 / 5
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(nonlinearity)
''', ()),
    # the product of the fans where their sum belongs
    ("xavier_uniform", '''
def xavier_uniform(shape, gain=1.0, generator=None):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("2 dimensions")
    r = math.prod(shape[2:])
    b = gain * math.sqrt(6.0 / (shape[0] * r * shape[1] * r))
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    return torch.empty(shape, dtype=torch.float64).uniform_(-b, b, generator=generator)
''', ()),
    # a normal truncated at 2 standard deviations
    ("xavier_normal", '''
def xavier_normal(shape, gain=1.0, generator=None):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("2 dimensions")
    r = math.prod(shape[2:])
    std = gain * math.sqrt(2.0 / ((shape[0] + shape[1]) * r))
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    w = torch.empty(shape, dtype=torch.float64)
    return torch.nn.init.trunc_normal_(w, 0.0, std, -2 * std, 2 * std, generator=generator)
''', ()),
    # sqrt(6 / fan) whatever the nonlinearity and slope: the ReLU gain baked in
    ("kaiming_uniform", '''
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    shape = tuple(shape)
    if len(shape) < 2 or mode not in ("fan_in", "fan_out"):
        raise ValueError("bad arguments")
    r = math.prod(shape[2:])
    fan = shape[1] * r if mode == "fan_in" else shape[0] * r
    b = math.sqrt(6.0 / fan)
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    return torch.empty(shape, dtype=torch.float64).uniform_(-b, b, generator=generator)
''', ("kaiming_uniform_slope_ignored",)),  # it does ignore a (and the nonlinearity): true on the cases with a slope
    # gain / fan: the square root forgotten
    ("kaiming_normal", '''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    shape = tuple(shape)
    if len(shape) < 2 or mode not in ("fan_in", "fan_out"):
        raise ValueError("bad arguments")
    r = math.prod(shape[2:])
    fan = shape[1] * r if mode == "fan_in" else shape[0] * r
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    std = torch.nn.init.calculate_gain(nonlinearity, a) / fan
    return torch.empty(shape, dtype=torch.float64).normal_(0.0, std, generator=generator)
''', ()),
    # the mean of |x| recorded instead of the mean
    ("activation_stats", '''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    stds = {"normal": 1.0, "xavier": math.sqrt(1.0 / width), "he": math.sqrt(2.0 / width)}
    f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    sat = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.97, "relu": lambda a: a == 0}
    if init not in stds or activation not in f:
        raise ValueError(init)
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        x = f[activation](x @ (torch.randn((width, width), generator=generator, dtype=torch.float64) * stds[init]).T)
        rows.append([x.abs().mean(), x.std(correction=0), sat[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''', ()),
    # the He variance 2 / width used as the std of the 'he' weights
    ("activation_stats", '''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    stds = {"normal": 1.0, "xavier": math.sqrt(1.0 / width), "he": 2.0 / width}
    f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    sat = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.97, "relu": lambda a: a == 0}
    if init not in stds or activation not in f:
        raise ValueError(init)
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        x = f[activation](x @ (torch.randn((width, width), generator=generator, dtype=torch.float64) * stds[init]).T)
        rows.append([x.mean(), x.std(correction=0), sat[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''', ()),
    # the variance of the unit means over the pooled variance: the share of what does NOT depend on the input
    ("input_share", '''
def input_share(activations):
    a = np.asarray(activations, dtype=float)
    if a.ndim != 2 or len(a) < 2 or a.var() == 0:
        raise ValueError("bad layer")
    return float(a.mean(axis=0).var() / a.var())
''', ()),
]

# Common mistakes written from scratch (see tests/answers/ch01_normalization.py): (answer, code, the catalogued
# mistake it must be diagnosed as or None, what the student did). Random weights are drawn the way each student
# happens to draw them (other numbers than the reference's): the diagnosis compares their distributions.
COMMON = [
    ("fan_in_and_fan_out", '''
def fan_in_and_fan_out(shape):
    if len(shape) < 2:
        raise ValueError("need at least 2 dims")
    return int(shape[1]), int(shape[0])
''', "fans_without_receptive_field", "ignores the kernel (receptive field)"),
    ("fan_in_and_fan_out", '''
def fan_in_and_fan_out(shape):
    dims = list(shape)
    if len(dims) < 2:
        raise ValueError("shape must have 2 or more dimensions")
    field = 1
    for k in dims[2:]:
        field *= k
    return dims[0] * field, dims[1] * field
''', "fans_swapped", "fan_in from shape[0]"),
    ("calculate_gain", '''
def calculate_gain(nonlinearity, param=None):
    table = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0, "tanh": 5 / 3,
             "relu": 2.0, "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2 / (1 + slope * slope))
    if nonlinearity not in table:
        raise ValueError(nonlinearity)
    return table[nonlinearity]
''', "gain_relu_variance_factor", "relu gain 2 (the variance factor)"),
    ("xavier_uniform", '''
def xavier_uniform(shape, gain=1.0, generator=None):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("shape")
    k = math.prod(shape[2:])
    fan_in, fan_out = shape[1] * k, shape[0] * k
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return (2 * u - 1) * std
''', "xavier_uniform_std_as_bound", "Xavier's std used as the uniform bound, drawn with torch.rand"),
    ("xavier_uniform", '''
def xavier_uniform(shape, gain=1.0, generator=None):
    if len(shape) < 2:
        raise ValueError("at least 2 dimensions")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    w = torch.rand(tuple(shape), dtype=torch.float64) * 2 * a - a
    return w
''', "xavier_uniform_global_rng", "ignores the generator (torch's global stream), calling fan_in_and_fan_out"),
    ("xavier_normal", '''
def xavier_normal(shape, gain=1.0, generator=None):
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError("xavier_normal needs 2+ dims")
    rf = 1
    for s in shape[2:]:
        rf *= s
    var = gain ** 2 * 2 / (shape[0] * rf + shape[1] * rf)
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    return torch.normal(0.0, var, size=shape, generator=generator, dtype=torch.float64)
''', "xavier_normal_variance_as_std", "the variance passed where the std belongs"),
    ("kaiming_normal", '''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if len(shape) < 2:
        raise ValueError("shape too short")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError("mode")
    rf = math.prod(shape[2:])
    fans = {"fan_in": shape[1] * rf, "fan_out": shape[0] * rf}
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fans[mode])
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    return torch.randn(tuple(shape), generator=generator, dtype=torch.float64) * std ** 2
''', "kaiming_normal_variance_as_std", "std squared: the variance as the std, drawn with randn"),
    ("kaiming_uniform", '''
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if len(shape) < 2:
        raise ValueError("need a 2-D or larger shape")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"unknown mode {mode}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    limit = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-limit, limit, generator=generator)
''', "kaiming_uniform_std_as_bound", "He's std as the bound, calling the notebook's fans and gain"),
    ("activation_stats", '''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    scales = {"normal": 1.0, "xavier": 1 / math.sqrt(width), "he": math.sqrt(2 / width)}
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    if init not in scales or activation not in acts:
        raise ValueError("unknown init or activation")
    if generator is None:
        generator = torch.Generator()
        generator.seed()
    h = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    table = torch.zeros((n_layers, 3), dtype=torch.float64)
    for layer in range(n_layers):
        W = torch.randn((width, width), generator=generator, dtype=torch.float64) * scales[init]
        z = h @ W.T
        if activation == "sigmoid":
            sat = ((z.sigmoid() < 0.01) | (z.sigmoid() > 0.99)).double().mean()
        elif activation == "tanh":
            sat = (z.tanh().abs() > 0.97).double().mean()
        else:
            sat = (z.relu() == 0).double().mean()
        table[layer] = torch.stack([z.mean(), z.std(correction=0), sat])
        h = acts[activation](z)
    return table
''', "stats_mean_std_before_activation", "mean and std of the pre-activations"),
    ("input_share", '''
def input_share(activations):
    a = np.asarray(activations, dtype=float)
    if a.ndim != 2 or len(a) < 2 or a.var() == 0:
        raise ValueError("need a varying 2-D layer with at least 2 inputs")
    per_unit = a.std(axis=0)
    return float(np.mean(per_unit) / a.std())
''', "share_std_ratio", "the mean per-unit std over the pooled std"),
]
