"""Mistakes students make with fans, gains, the Xavier and He initializers and the activation experiment."""

from tests.mutants import Mutant

CHAPTER = "03-weight-init"

MUTANTS = [
    # --- fan_in_and_fan_out ----------------------------------------------------------------------
    Mutant(
        name="fans_swapped",
        target="fan_in_and_fan_out",
        mistake="reads a Linear weight as (in, out): fan_in and fan_out swapped",
        match=r"swap",
        code='''
def fan_in_and_fan_out(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("need 2 dimensions")
    receptive_field = math.prod(shape[2:])
    return shape[0] * receptive_field, shape[1] * receptive_field
''',
    ),
    Mutant(
        name="fans_without_receptive_field",
        target="fan_in_and_fan_out",
        mistake="counts channels only and leaves the conv receptive field (kernel size) out",
        match=r"receptive field is missing",
        code='''
def fan_in_and_fan_out(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("need 2 dimensions")
    return shape[1], shape[0]
''',
    ),
    Mutant(
        name="fans_square_kernel",
        target="fan_in_and_fan_out",
        mistake="assumes a square kernel: receptive field = kernel_size ** (dims - 2)",
        match=r"non-square",
        code='''
def fan_in_and_fan_out(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("need 2 dimensions")
    receptive_field = shape[2] ** (len(shape) - 2) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field
''',
    ),
    Mutant(
        name="fans_fan_out_without_receptive_field",
        target="fan_in_and_fan_out",
        mistake="multiplies the receptive field into fan_in only",
        match=r"multiplies fan_out",
        code='''
def fan_in_and_fan_out(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("need 2 dimensions")
    return shape[1] * math.prod(shape[2:]), shape[0]
''',
    ),
    Mutant(
        name="fans_call_torch",
        target="fan_in_and_fan_out",
        mistake="delegates to torch.nn.init's private helper instead of computing the fans",
        match=r"implement it yourself",
        code='''
def fan_in_and_fan_out(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(tuple(shape)))
''',
    ),
    # --- calculate_gain ---------------------------------------------------------------------------
    Mutant(
        name="gain_tanh_omitted",
        target="calculate_gain",
        mistake="gives tanh gain 1, like the sigmoid",
        match=r"tanh has gain 5/3",
        code='''
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "tanh"):
        return 1.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(nonlinearity)
''',
    ),
    Mutant(
        name="gain_relu_variance_factor",
        target="calculate_gain",
        mistake="gives relu the variance factor 2 instead of the std factor sqrt(2)",
        match=r"factor of the variance",
        code='''
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return 2.0
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(nonlinearity)
''',
    ),
    Mutant(
        name="gain_leaky_default_slope_zero",
        target="calculate_gain",
        mistake="takes a missing leaky_relu slope as 0 instead of torch's 0.01",
        match=r"0\.01",
        code='''
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.0 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(nonlinearity)
''',
    ),
    Mutant(
        name="gain_leaky_slope_not_squared",
        target="calculate_gain",
        mistake="writes sqrt(2 / (1 + slope)) without squaring the slope",
        match=r"square it",
        code='''
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(nonlinearity)
''',
    ),
    Mutant(
        name="gain_leaky_param_ignored",
        target="calculate_gain",
        mistake="always uses the default slope 0.01 and ignores param",
        match=r"use param",
        code='''
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + 0.01**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(nonlinearity)
''',
    ),
    # --- xavier_uniform ---------------------------------------------------------------------------
    Mutant(
        name="xavier_uniform_std_as_bound",
        target="xavier_uniform",
        mistake="uses the std gain * sqrt(2 / (fan_in + fan_out)) as the bound, forgetting the sqrt(3)",
        match=r"std .* was used as the bound",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="xavier_uniform_fan_in_only",
        target="xavier_uniform",
        mistake="Xavier on fan_in only: b = gain * sqrt(3 / fan_in) (LeCun's uniform)",
        match=r"fan_in only",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(3.0 / fan_in)
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="xavier_uniform_not_centred",
        target="xavier_uniform",
        mistake="draws torch.rand(...) * b, i.e. U(0, b) instead of U(-b, b)",
        match=r"centred at 0",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return torch.rand(tuple(shape), generator=generator, dtype=torch.float64) * bound
''',
    ),
    Mutant(
        name="xavier_uniform_constant",
        target="xavier_uniform",
        mistake="constant init: every weight set to the bound",
        match=r"constant",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return torch.full(tuple(shape), gain * math.sqrt(6.0 / (fan_in + fan_out)), dtype=torch.float64)
''',
    ),
    Mutant(
        name="xavier_uniform_gain_ignored",
        target="xavier_uniform",
        mistake="ignores the gain argument",
        match=r"gain was ignored",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="xavier_uniform_global_rng",
        target="xavier_uniform",
        mistake="draws from torch's global generator and ignores the generator argument",
        match=r"generator=generator",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(tuple(shape), dtype=torch.float64) * 2 - 1) * bound
''',
    ),
    Mutant(
        name="xavier_uniform_float32",
        target="xavier_uniform",
        mistake="returns torch's default float32 (torch.empty(shape) without a dtype)",
        match=r"float64",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape)).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="xavier_uniform_call_torch",
        target="xavier_uniform",
        mistake="fills a tensor with torch.nn.init.xavier_uniform_ instead of implementing it",
        match=r"implement it yourself",
        code='''
def xavier_uniform(shape, gain=1.0, generator=None):
    w = torch.empty(tuple(shape), dtype=torch.float64)
    return torch.nn.init.xavier_uniform_(w, gain=gain, generator=generator)
''',
    ),
    # --- xavier_normal ----------------------------------------------------------------------------
    Mutant(
        name="xavier_normal_variance_as_std",
        target="xavier_normal",
        mistake="passes the variance 2 / (fan_in + fan_out) where the standard deviation belongs",
        match=r"variance .* was used as the standard deviation",
        code='''
def xavier_normal(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    variance = gain**2 * 2.0 / (fan_in + fan_out)
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, variance, generator=generator)
''',
    ),
    Mutant(
        name="xavier_normal_fan_in_only",
        target="xavier_normal",
        mistake="Xavier on fan_in only: std = gain / sqrt(fan_in) (LeCun's normal)",
        match=r"fan_in only",
        code='''
def xavier_normal(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = gain / math.sqrt(fan_in)
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, std, generator=generator)
''',
    ),
    Mutant(
        name="xavier_normal_draws_uniform",
        target="xavier_normal",
        mistake="draws a uniform with the right standard deviation instead of a normal",
        match=r"normal distribution has 4.55",
        code='''
def xavier_normal(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="xavier_normal_gain_ignored",
        target="xavier_normal",
        mistake="ignores the gain argument",
        match=r"gain was ignored",
        code='''
def xavier_normal(shape, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, std, generator=generator)
''',
    ),
    Mutant(
        name="xavier_normal_own_fans_without_kernel",
        target="xavier_normal",
        mistake="computes the fans inline as shape[1], shape[0], leaving the conv kernel out",
        match=r"receptive field",
        code='''
def xavier_normal(shape, gain=1.0, generator=None):
    fan_in, fan_out = shape[1], shape[0]
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, std, generator=generator)
''',
    ),
    # --- kaiming_uniform --------------------------------------------------------------------------
    Mutant(
        name="kaiming_uniform_without_factor_2",
        target="kaiming_uniform",
        mistake="He without the factor 2: b = sqrt(3 / fan_in) with the default arguments",
        match=r"factor 2 is missing",
        code='''
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) / math.sqrt(fan)
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_uniform_fan_out_default",
        target="kaiming_uniform",
        mistake="He on fan_out by default",
        match=r"fan_out was used by default",
        code='''
def kaiming_uniform(shape, a=0.0, mode="fan_out", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_uniform_std_as_bound",
        target="kaiming_uniform",
        mistake="uses the std gain / sqrt(fan) as the bound, forgetting the sqrt(3)",
        match=r"std was used as the bound",
        code='''
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_uniform_slope_ignored",
        target="kaiming_uniform",
        mistake="calls calculate_gain(nonlinearity) without the negative slope a",
        match=r"negative slope a was ignored",
        code='''
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = math.sqrt(2.0) if nonlinearity == "leaky_relu" else calculate_gain(nonlinearity)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return torch.empty(tuple(shape), dtype=torch.float64).uniform_(-bound, bound, generator=generator)
''',
    ),
    # --- kaiming_normal ---------------------------------------------------------------------------
    Mutant(
        name="kaiming_normal_without_factor_2",
        target="kaiming_normal",
        mistake="He without the factor 2: std = 1 / sqrt(fan_in) with the default arguments",
        match=r"factor 2 is missing",
        code='''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    std = 1.0 / math.sqrt(fan)
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, std, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_normal_fan_out_default",
        target="kaiming_normal",
        mistake="He on fan_out by default",
        match=r"fan_out was used by default",
        code='''
def kaiming_normal(shape, a=0.0, mode="fan_out", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, std, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_normal_variance_as_std",
        target="kaiming_normal",
        mistake="passes the variance gain**2 / fan where the standard deviation belongs",
        match=r"variance .* was used as the standard deviation",
        code='''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    variance = calculate_gain(nonlinearity, a) ** 2 / fan
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, variance, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_normal_mode_ignored",
        target="kaiming_normal",
        mistake="always divides by fan_in, whatever mode says",
        match=r"mode was ignored",
        code='''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in)
    return torch.empty(tuple(shape), dtype=torch.float64).normal_(0.0, std, generator=generator)
''',
    ),
    Mutant(
        name="kaiming_normal_global_rng",
        target="kaiming_normal",
        mistake="torch.randn(shape) * std without the generator",
        match=r"generator=generator",
        code='''
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return torch.randn(tuple(shape), dtype=torch.float64) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
''',
    ),
    # --- activation_stats -------------------------------------------------------------------------
    Mutant(
        name="stats_before_activation",
        target="activation_stats",
        mistake="records the statistics of the pre-activations x @ W.T instead of f(x @ W.T)",
        match=r"after the nonlinearity",
        code='''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    weights = {
        "normal": lambda: torch.randn((width, width), generator=generator, dtype=torch.float64),
        "xavier": lambda: xavier_normal((width, width), generator=generator),
        "he": lambda: kaiming_normal((width, width), nonlinearity="relu", generator=generator),
    }
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    saturated = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.97,
                 "relu": lambda a: a == 0}
    if init not in weights or activation not in functions:
        raise ValueError(init)
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        z = x @ weights[init]().T
        rows.append([z.mean(), z.std(correction=0), saturated[activation](z).double().mean()])
        x = functions[activation](z)
    return torch.tensor(rows, dtype=torch.float64)
''',
    ),
    Mutant(
        name="stats_sigmoid_saturation_one_sided",
        target="activation_stats",
        mistake="counts a sigmoid unit as saturated only above 0.99",
        match=r"below 0\.01 or above 0\.99|both ends",
        code='''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    weights = {
        "normal": lambda: torch.randn((width, width), generator=generator, dtype=torch.float64),
        "xavier": lambda: xavier_normal((width, width), generator=generator),
        "he": lambda: kaiming_normal((width, width), nonlinearity="relu", generator=generator),
    }
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    saturated = {"sigmoid": lambda a: a > 0.99, "tanh": lambda a: a.abs() > 0.97, "relu": lambda a: a == 0}
    if init not in weights or activation not in functions:
        raise ValueError(init)
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        x = functions[activation](x @ weights[init]().T)
        rows.append([x.mean(), x.std(correction=0), saturated[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''',
    ),
    Mutant(
        name="stats_tanh_threshold",
        target="activation_stats",
        mistake="uses |tanh| > 0.99 as the saturation threshold instead of 0.97",
        match=r"0\.97",
        code='''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    weights = {
        "normal": lambda: torch.randn((width, width), generator=generator, dtype=torch.float64),
        "xavier": lambda: xavier_normal((width, width), generator=generator),
        "he": lambda: kaiming_normal((width, width), nonlinearity="relu", generator=generator),
    }
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    saturated = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.99,
                 "relu": lambda a: a == 0}
    if init not in weights or activation not in functions:
        raise ValueError(init)
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        x = functions[activation](x @ weights[init]().T)
        rows.append([x.mean(), x.std(correction=0), saturated[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''',
    ),
    Mutant(
        name="stats_he_without_relu_gain",
        target="activation_stats",
        mistake="draws the 'he' weights with kaiming_normal(..., nonlinearity='linear'): no factor 2",
        match=r"nonlinearity='relu'",
        code='''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    weights = {
        "normal": lambda: torch.randn((width, width), generator=generator, dtype=torch.float64),
        "xavier": lambda: xavier_normal((width, width), generator=generator),
        "he": lambda: kaiming_normal((width, width), nonlinearity="linear", generator=generator),
    }
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    saturated = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.97,
                 "relu": lambda a: a == 0}
    if init not in weights or activation not in functions:
        raise ValueError(init)
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        x = functions[activation](x @ weights[init]().T)
        rows.append([x.mean(), x.std(correction=0), saturated[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''',
    ),
    Mutant(
        name="stats_normal_std_001",
        target="activation_stats",
        mistake="'normal' weights with std 0.01 (the other experiment of the classic textbook) instead of 1",
        match=r"N\(0, 1\)",
        code='''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    weights = {
        "normal": lambda: 0.01 * torch.randn((width, width), generator=generator, dtype=torch.float64),
        "xavier": lambda: xavier_normal((width, width), generator=generator),
        "he": lambda: kaiming_normal((width, width), nonlinearity="relu", generator=generator),
    }
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    saturated = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.97,
                 "relu": lambda a: a == 0}
    if init not in weights or activation not in functions:
        raise ValueError(init)
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = []
    for _ in range(n_layers):
        x = functions[activation](x @ weights[init]().T)
        rows.append([x.mean(), x.std(correction=0), saturated[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''',
    ),
    Mutant(
        name="stats_include_input_row",
        target="activation_stats",
        mistake="returns n_layers + 1 rows, the inputs included",
        match=r"input not included",
        code='''
def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    weights = {
        "normal": lambda: torch.randn((width, width), generator=generator, dtype=torch.float64),
        "xavier": lambda: xavier_normal((width, width), generator=generator),
        "he": lambda: kaiming_normal((width, width), nonlinearity="relu", generator=generator),
    }
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    saturated = {"sigmoid": lambda a: (a < 0.01) | (a > 0.99), "tanh": lambda a: a.abs() > 0.97,
                 "relu": lambda a: a == 0}
    if init not in weights or activation not in functions:
        raise ValueError(init)
    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    rows = [[x.mean(), x.std(correction=0), saturated[activation](x).double().mean()]]
    for _ in range(n_layers):
        x = functions[activation](x @ weights[init]().T)
        rows.append([x.mean(), x.std(correction=0), saturated[activation](x).double().mean()])
    return torch.tensor(rows, dtype=torch.float64)
''',
    ),
]
