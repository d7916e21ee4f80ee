"""Known mistakes of chapter 3: fans (swapped, receptive field, square kernels, floats, allocation), gains (tanh, the
variance factor, the leaky slope), the Xavier and He formulas (std vs bound vs variance, fan_in only, the factor 2,
fan_out by default, mode, slope and gain ignored), the shape of the distribution (uncentred, constant, uniform for
normal), float32, the generator (global stream, generator=None) and the activation experiment; the input share
(across units instead of across inputs, standard deviations instead of variances, ddof=1)."""

from checks.mistakes import Mistake

RANDOM = ("Why the weights start at random values", "why-the-weights-start-at-random-values")
ACTIVATIONS = ("Activations through ten layers", "activations-through-ten-layers")
FORMULAS = ("Where the formulas come from", "where-the-formulas-come-from")
FANS = ("Fans of real layers", "fans-of-real-layers")
GAINS = ("Gains", "gains")
ACROSS = ("Across inputs or across units?", "across-inputs-or-across-units")
SEEDS = ("Seeds and determinism", "seeds-and-determinism")

FANS_RETURN = "return shape[1] * receptive_field, shape[0] * receptive_field"
RECEPTIVE = "receptive_field = math.prod(shape[2:])"
DIM_CHECK = ("    if len(shape) < 2:\n"
             "        raise ValueError(f\"fan_in and fan_out need at least 2 dimensions, got shape {shape}\")\n")
LEAKY = "slope = 0.01 if param is None else float(param)"
FRESH = ("    if generator is None:  # a fresh stream: torch's global generator is neither read nor reseeded\n"
         "        generator = torch.Generator()\n        generator.seed()\n")
NONE_EXPLANATION = ("with generator=None your function draws from torch's global random generator (None passed on to "
                    "uniform_/normal_/randn, or to torch.nn.init, means the global stream); the exercise asks for a "
                    "fresh generator seeded from the operating system, generator = torch.Generator(); "
                    "generator.seed(), so that the global stream is never read or reseeded")
UNIFORM_DRAW = "return torch.empty(shape, dtype=torch.float64).uniform_(-bound, bound, generator=generator)"
NORMAL_DRAW = "return torch.empty(shape, dtype=torch.float64).normal_(0.0, std, generator=generator)"
XAVIER_BOUND = "bound = gain * math.sqrt(6.0 / (fan_in + fan_out))"
XAVIER_STD = "std = gain * math.sqrt(2.0 / (fan_in + fan_out))"
HE_BOUND = "bound = math.sqrt(3.0) * torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)"
HE_STD = "std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)"
MODE_CHECK = ("    if mode not in (\"fan_in\", \"fan_out\"):\n"
              "        raise ValueError(f\"mode must be 'fan_in' or 'fan_out', got {mode!r}\")\n")
LAYER = ("        x = functions[activation](x @ w.T)\n"
         "        rows.append([x.mean(), x.std(correction=0), saturated[activation](x).double().mean()])\n")

FAN_MISTAKES = [
    Mistake(
        id="fans_swapped", target="fan_in_and_fan_out", section=FANS, match=r"swap",
        explanation="your fans are swapped: a Linear weight is stored as (out, in), so fan_in is shape[1] (the "
                    "inputs) and fan_out is shape[0]",
        change=((FANS_RETURN, "return shape[0] * receptive_field, shape[1] * receptive_field"),),
    ),
    Mistake(
        id="fans_without_receptive_field", target="fan_in_and_fan_out", section=FANS,
        match=r"receptive field is missing",
        explanation="your fans count channels only; each output of a convolution sees in_channels x kernel positions, "
                    "so both fans are multiplied by the receptive field r = product of shape[2:]",
        change=((FANS_RETURN, "return shape[1], shape[0]"),),
    ),
    Mistake(
        id="fans_square_kernel", target="fan_in_and_fan_out", section=FANS, match=r"non-square",
        explanation="your receptive field assumes a square kernel (kernel_size ** dims); it is the product of all "
                    "kernel sizes, 3 * 5 = 15 for a (3, 5) kernel",
        change=((RECEPTIVE, "receptive_field = shape[2] ** (len(shape) - 2) if len(shape) > 2 else 1"),),
    ),
    Mistake(
        id="fans_fan_out_without_receptive_field", target="fan_in_and_fan_out", section=FANS,
        match=r"multiplies fan_out",
        explanation="your fan_out leaves the receptive field out; torch multiplies both fans by it: fan_out = "
                    "out_channels * r",
        change=((FANS_RETURN, "return shape[1] * receptive_field, shape[0]"),),
    ),
    Mistake(
        id="fans_call_torch", target="fan_in_and_fan_out", section=FANS, match=r"implement it yourself",
        explanation="your function builds torch.empty(shape) and asks torch.nn.init for the fans: it fails for a shape "
                    "too large to allocate, and the exercise asks you to compute them from the shape yourself",
        code="def fan_in_and_fan_out(shape):\n"
             "    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(tuple(shape)))\n",
    ),
    Mistake(
        id="fans_numpy_prod_float", target="fan_in_and_fan_out", section=FANS, match=r"must be ints",
        explanation="your fans of a Linear weight are floats: np.prod of the empty tuple shape[2:] is the float 1.0; "
                    "math.prod (or int(...)) keeps them ints, as torch returns them",
        change=((RECEPTIVE, "receptive_field = np.prod(shape[2:])"),),
    ),
    Mistake(
        id="fans_no_dimension_check", target="fan_in_and_fan_out", section=FANS, match=r"ValueError",
        explanation="your function indexes shape[1] without checking the number of dimensions, so a 1-D shape raises "
                    "IndexError; a shape with fewer than 2 dimensions must raise ValueError",
        change=((DIM_CHECK, ""),),
    ),
]

GAIN_MISTAKES = [
    Mistake(
        id="gain_tanh_omitted", target="calculate_gain", section=GAINS, match=r"tanh has gain 5/3",
        explanation="your tanh gain is 1, like the sigmoid's; torch's table gives tanh 5/3",
        change=(('("linear", "conv1d", "conv2d", "conv3d", "sigmoid")',
                 '("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "tanh")'),),
    ),
    Mistake(
        id="gain_relu_variance_factor", target="calculate_gain", section=GAINS, match=r"factor of the variance",
        explanation="your relu gain is 2, the factor of the VARIANCE (Var(W) = 2 / fan_in); the gain scales the "
                    "standard deviation, so it is sqrt(2)",
        change=(("return math.sqrt(2.0)\n", "return 2.0\n"),),
    ),
    Mistake(
        id="gain_leaky_default_slope_zero", target="calculate_gain", section=GAINS, match=r"0\.01",
        explanation="your leaky_relu takes a missing slope (param=None) as 0; torch's default negative slope is 0.01",
        change=((LEAKY, "slope = 0.0 if param is None else float(param)"),),
    ),
    Mistake(
        id="gain_leaky_slope_not_squared", target="calculate_gain", section=GAINS, match=r"square it",
        explanation="your leaky_relu gain is sqrt(2 / (1 + slope)); the slope is squared: sqrt(2 / (1 + slope**2))",
        change=(("math.sqrt(2.0 / (1 + slope**2))", "math.sqrt(2.0 / (1 + slope))"),),
    ),
    Mistake(
        id="gain_leaky_param_ignored", target="calculate_gain", section=GAINS, match=r"use param",
        explanation="your leaky_relu gain always uses the default slope 0.01; param is the negative slope when given",
        change=((LEAKY, "slope = 0.01"),),
    ),
    Mistake(
        id="gain_leaky_zero_slope_as_default", target="calculate_gain", section=GAINS, match=r"param is None",
        explanation="your leaky_relu treats param=0 as missing (param or 0.01: 0 is falsy); a slope of 0 is a ReLU, "
                    "gain sqrt(2): test param is None",
        change=((LEAKY, "slope = param or 0.01"),),
    ),
    Mistake(
        id="gain_accepts_any_case", target="calculate_gain", section=GAINS, match=r"lower case",
        explanation="your function accepts 'ReLU' by lower-casing the name; torch's table has lower-case names only "
                    "and raises ValueError for any other",
        change=(('    if nonlinearity in ("linear"',
                 '    nonlinearity = nonlinearity.lower()\n    if nonlinearity in ("linear"'),),
    ),
]

XAVIER_UNIFORM_MISTAKES = [
    Mistake(
        id="xavier_uniform_std_as_bound", target="xavier_uniform", section=FORMULAS,
        match=r"std .* was used as the bound",
        explanation="your bound is Xavier's standard deviation gain * sqrt(2 / (fan_in + fan_out)); a uniform on "
                    "[-b, b] has std b / sqrt(3), so b = gain * sqrt(6 / (fan_in + fan_out))",
        change=((XAVIER_BOUND, "bound = gain * math.sqrt(2.0 / (fan_in + fan_out))"),),
    ),
    Mistake(
        id="xavier_uniform_fan_in_only", target="xavier_uniform", section=FORMULAS, match=r"fan_in only",
        explanation="your bound uses fan_in only, gain * sqrt(3 / fan_in) (LeCun's uniform); Xavier averages both "
                    "fans: gain * sqrt(6 / (fan_in + fan_out))",
        change=((XAVIER_BOUND, "bound = gain * math.sqrt(3.0 / fan_in)"),),
    ),
    Mistake(
        id="xavier_uniform_not_centred", target="xavier_uniform", section=FORMULAS, match=r"centred at 0",
        explanation="your weights lie in [0, b] (torch.rand(...) * b); Xavier draws from U(-b, b), centred at 0",
        change=((UNIFORM_DRAW, "return torch.rand(shape, generator=generator, dtype=torch.float64) * bound"),),
    ),
    Mistake(
        id="xavier_uniform_constant", target="xavier_uniform", section=RANDOM, match=r"constant",
        explanation="your weights are all equal; a constant init gives every unit of a layer the same weights, so they "
                    "compute and learn the same thing: draw them at random",
        change=((UNIFORM_DRAW, "return torch.full(shape, bound, dtype=torch.float64)"),),
    ),
    Mistake(
        id="xavier_uniform_gain_ignored", target="xavier_uniform", section=GAINS, match=r"gain was ignored",
        explanation="your bound ignores the gain argument; b = gain * sqrt(6 / (fan_in + fan_out))",
        change=((XAVIER_BOUND, "bound = math.sqrt(6.0 / (fan_in + fan_out))"),),
    ),
    Mistake(
        id="xavier_uniform_no_receptive_field", target="xavier_uniform", section=FANS, match=r"receptive field",
        explanation="your fans leave the kernel out (fan_in = shape[1], fan_out = shape[0]); for a convolution both "
                    "fans are multiplied by the receptive field, the product of shape[2:]",
        change=((RECEPTIVE, "receptive_field = 1"),),
    ),
    Mistake(
        id="xavier_uniform_global_rng", target="xavier_uniform", section=SEEDS, match=r"generator=generator",
        explanation="your weights come from torch's global random generator, not from the generator argument: the same "
                    "seed does not give the same weights; pass generator=generator to every draw",
        change=((UNIFORM_DRAW, "return (torch.rand(shape, dtype=torch.float64) * 2 - 1) * bound"),),
    ),
    Mistake(
        id="xavier_uniform_float32", target="xavier_uniform", section=FORMULAS, match=r"float64",
        explanation="your tensor is float32, torch's default dtype (torch.empty(shape) without dtype); the exercise "
                    "returns float64 weights: torch.empty(shape, dtype=torch.float64)",
        change=(("torch.empty(shape, dtype=torch.float64)", "torch.empty(shape)"),),
    ),
    Mistake(
        # Also what torch.nn.init.xavier_uniform_(w, gain, generator=generator) gives: the hidden checks see the
        # same numbers (calling torch.nn.init is caught by the visible test, in the student's kernel).
        id="xavier_uniform_none_global_rng", target="xavier_uniform", section=SEEDS, match=r"global random generator",
        explanation=NONE_EXPLANATION, change=((FRESH, ""),),
    ),
]

XAVIER_NORMAL_MISTAKES = [
    Mistake(
        id="xavier_normal_variance_as_std", target="xavier_normal", section=FORMULAS,
        match=r"variance .* was used as the standard deviation",
        explanation="your normal_ gets the variance gain**2 * 2 / (fan_in + fan_out) where the standard deviation "
                    "belongs; std = gain * sqrt(2 / (fan_in + fan_out))",
        change=((XAVIER_STD, "std = gain**2 * 2.0 / (fan_in + fan_out)"),),
    ),
    Mistake(
        id="xavier_normal_fan_in_only", target="xavier_normal", section=FORMULAS, match=r"fan_in only",
        explanation="your std uses fan_in only, gain / sqrt(fan_in) (LeCun's normal); Xavier averages both fans: "
                    "gain * sqrt(2 / (fan_in + fan_out))",
        change=((XAVIER_STD, "std = gain / math.sqrt(fan_in)"),),
    ),
    Mistake(
        id="xavier_normal_draws_uniform", target="xavier_normal", section=FORMULAS,
        match=r"normal distribution has 4.55",
        explanation="your weights are uniform with the right standard deviation; xavier_normal draws from a normal "
                    "N(0, std^2) (tensor.normal_ or torch.randn * std)",
        change=((NORMAL_DRAW, "return torch.empty(shape, dtype=torch.float64).uniform_(-math.sqrt(3.0) * std, "
                              "math.sqrt(3.0) * std, generator=generator)"),),
    ),
    Mistake(
        id="xavier_normal_gain_ignored", target="xavier_normal", section=GAINS, match=r"gain was ignored",
        explanation="your std ignores the gain argument; std = gain * sqrt(2 / (fan_in + fan_out))",
        change=((XAVIER_STD, "std = math.sqrt(2.0 / (fan_in + fan_out))"),),
    ),
    Mistake(
        id="xavier_normal_own_fans_without_kernel", target="xavier_normal", section=FANS, match=r"receptive field",
        explanation="your fans leave the kernel out (fan_in = shape[1], fan_out = shape[0]); for a convolution both "
                    "fans are multiplied by the receptive field, the product of shape[2:]",
        change=((RECEPTIVE, "receptive_field = 1"),),
    ),
    Mistake(
        id="xavier_normal_none_global_rng", target="xavier_normal", section=SEEDS, match=r"global random generator",
        explanation=NONE_EXPLANATION, change=((FRESH, ""),),
    ),
]

KAIMING_UNIFORM_MISTAKES = [
    Mistake(
        id="kaiming_uniform_without_factor_2", target="kaiming_uniform", section=FORMULAS, match=r"factor 2 is missing",
        explanation="your bound has no gain: sqrt(3 / fan_in) with the defaults; the default leaky_relu with a=0 is a "
                    "ReLU, gain sqrt(2), so b = sqrt(6 / fan_in) (He's factor 2 in the variance)",
        change=((HE_BOUND, "bound = math.sqrt(3.0) / math.sqrt(fan)"),),
    ),
    Mistake(
        id="kaiming_uniform_fan_out_default", target="kaiming_uniform", section=FORMULAS,
        match=r"fan_out was used by default",
        explanation="your default mode is fan_out; torch's and the exercise's default is mode='fan_in' (it keeps the "
                    "variance of the forward pass)",
        change=(('mode="fan_in"', 'mode="fan_out"'),),
    ),
    Mistake(
        id="kaiming_uniform_std_as_bound", target="kaiming_uniform", section=FORMULAS,
        match=r"std was used as the bound",
        explanation="your bound is He's standard deviation gain / sqrt(fan); a uniform on [-b, b] has std b / sqrt(3), "
                    "so b = sqrt(3) * gain / sqrt(fan)",
        change=((HE_BOUND, "bound = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)"),),
    ),
    Mistake(
        id="kaiming_uniform_slope_ignored", target="kaiming_uniform", section=GAINS,
        match=r"negative slope a was ignored",
        explanation="your gain ignores the negative slope a (calculate_gain(nonlinearity) without a); the gain is "
                    "calculate_gain(nonlinearity, a) = sqrt(2 / (1 + a**2)) for leaky_relu",
        change=(("calculate_gain(nonlinearity, a)", "calculate_gain(nonlinearity)"),),
    ),
    Mistake(
        id="kaiming_uniform_mode_unchecked", target="kaiming_uniform", section=FORMULAS, match=r"fan_avg",
        explanation="your function accepts any mode (everything but 'fan_in' counts as 'fan_out'); only 'fan_in' and "
                    "'fan_out' exist, another mode raises ValueError",
        change=((MODE_CHECK, ""),),
    ),
    Mistake(
        id="kaiming_uniform_none_global_rng", target="kaiming_uniform", section=SEEDS, match=r"global random generator",
        explanation=NONE_EXPLANATION, change=((FRESH, ""),),
    ),
]

KAIMING_NORMAL_MISTAKES = [
    Mistake(
        id="kaiming_normal_without_factor_2", target="kaiming_normal", section=FORMULAS, match=r"factor 2 is missing",
        explanation="your std has no gain: 1 / sqrt(fan_in) with the defaults; the default leaky_relu with a=0 is a "
                    "ReLU, gain sqrt(2), so std = sqrt(2 / fan_in) (He's factor 2 in the variance)",
        change=((HE_STD, "std = 1.0 / math.sqrt(fan)"),),
    ),
    Mistake(
        id="kaiming_normal_fan_out_default", target="kaiming_normal", section=FORMULAS,
        match=r"fan_out was used by default",
        explanation="your default mode is fan_out; torch's and the exercise's default is mode='fan_in' (it keeps the "
                    "variance of the forward pass)",
        change=(('mode="fan_in"', 'mode="fan_out"'),),
    ),
    Mistake(
        id="kaiming_normal_variance_as_std", target="kaiming_normal", section=FORMULAS,
        match=r"variance .* was used as the standard deviation",
        explanation="your normal_ gets the variance gain**2 / fan where the standard deviation belongs; "
                    "std = gain / sqrt(fan)",
        change=((HE_STD, "std = torch.nn.init.calculate_gain(nonlinearity, a) ** 2 / fan"),),
    ),
    Mistake(
        id="kaiming_normal_mode_ignored", target="kaiming_normal", section=FORMULAS, match=r"mode was ignored",
        explanation="your std always divides by fan_in; mode='fan_out' divides by fan_out (it keeps the variance of "
                    "the backward pass)",
        change=(('fan = fan_in if mode == "fan_in" else fan_out', "fan = fan_in"),),
    ),
    Mistake(
        id="kaiming_normal_global_rng", target="kaiming_normal", section=SEEDS, match=r"generator=generator",
        explanation="your weights come from torch's global random generator (torch.randn without generator): the "
                    "same seed does not give the same weights; pass generator=generator to every draw",
        change=((NORMAL_DRAW, "return torch.randn(shape, dtype=torch.float64) * std"),),
    ),
    Mistake(
        id="kaiming_normal_none_global_rng", target="kaiming_normal", section=SEEDS, match=r"global random generator",
        explanation=NONE_EXPLANATION, change=((FRESH, ""),),
    ),
]

STATS_MISTAKES = [
    Mistake(
        id="stats_before_activation", target="activation_stats", section=ACTIVATIONS, match=r"after the nonlinearity",
        explanation="your statistics are those of the pre-activations x @ W.T; the experiment records the "
                    "activations f(x @ W.T), after the nonlinearity",
        change=((LAYER, "        z = x @ w.T\n"
                        "        rows.append([z.mean(), z.std(correction=0), "
                        "saturated[activation](z).double().mean()])\n"
                        "        x = functions[activation](z)\n"),),
    ),
    Mistake(
        id="stats_mean_std_before_activation", target="activation_stats", section=ACTIVATIONS,
        match=r"after the nonlinearity|after the activation",
        explanation="your mean and standard deviation are those of the pre-activations x @ W.T (your saturated "
                    "fraction is of the activations); the experiment records the mean and std of the activations "
                    "f(x @ W.T) too, after the nonlinearity",
        change=((LAYER, "        z = x @ w.T\n"
                        "        x = functions[activation](z)\n"
                        "        rows.append([z.mean(), z.std(correction=0), "
                        "saturated[activation](x).double().mean()])\n"),),
    ),
    Mistake(
        id="stats_sigmoid_saturation_one_sided", target="activation_stats", section=ACTIVATIONS,
        match=r"below 0\.01 or above 0\.99|both ends",
        explanation="your sigmoid counts a unit as saturated only above 0.99; it is saturated at both ends, below 0.01 "
                    "or above 0.99 (the slope is nearly 0 in either tail)",
        change=(('"sigmoid": lambda a: (a < 0.01) | (a > 0.99),', '"sigmoid": lambda a: a > 0.99,'),),
    ),
    Mistake(
        id="stats_tanh_threshold", target="activation_stats", section=ACTIVATIONS, match=r"0\.97",
        hidden_only="a saturation threshold of 0.99 from 0.97 for tanh",
        explanation="your tanh counts a unit as saturated above |tanh| > 0.99; the experiment uses 0.97",
        change=(("a.abs() > 0.97", "a.abs() > 0.99"),),
    ),
    Mistake(
        id="stats_he_without_relu_gain", target="activation_stats", section=ACTIVATIONS, match=r"sqrt\(2 / width\)",
        explanation="your 'he' weights have std 1 / sqrt(width), without the ReLU gain sqrt(2) (kaiming_normal with "
                    "nonlinearity='linear'); He's std is sqrt(2 / width)",
        change=(('"he": math.sqrt(2.0 / width)', '"he": math.sqrt(1.0 / width)'),),
    ),
    Mistake(
        id="stats_normal_std_001", target="activation_stats", section=ACTIVATIONS, match=r"N\(0, 1\)",
        explanation="your 'normal' weights have std 0.01 (the other experiment of the classic textbook); the chapter's "
                    "naive init is N(0, 1), std 1",
        change=(('"normal": 1.0', '"normal": 0.01'),),
    ),
    Mistake(
        id="stats_include_input_row", target="activation_stats", section=ACTIVATIONS, match=r"input not included",
        explanation="your table has n_layers + 1 rows, the inputs included; it has one row per layer, the input not "
                    "included",
        change=(("rows = []", "rows = [[x.mean(), x.std(correction=0), saturated[activation](x).double().mean()]]"),),
    ),
    Mistake(
        id="stats_none_global_rng", target="activation_stats", section=SEEDS, match=r"global random generator",
        explanation=NONE_EXPLANATION, change=((FRESH, ""),),
    ),
]

SHARE_MISTAKES = [
    Mistake(
        id="share_across_units", target="input_share", section=ACROSS, match=r"across UNITS",
        explanation="your share averages each input's variance across the units (axis=1): that is the spread the "
                    "pooled histogram shows, not the input dependence; take each unit's variance across the inputs "
                    "(axis=0)",
        change=(("a.var(axis=0).mean()", "a.var(axis=1).mean()"),),
    ),
    Mistake(
        id="share_std_ratio", target="input_share", section=ACROSS, match=r"ratio of standard deviations",
        explanation="your share divides standard deviations (the mean per-unit std by the pooled std); the law of "
                    "total variance splits variances, so the share is a ratio of variances",
        change=(("a.var(axis=0).mean() / a.var()", "a.std(axis=0).mean() / a.std()"),),
    ),
    Mistake(
        id="share_ddof_1", target="input_share", section=ACROSS, match=r"ddof=1",
        explanation="your per-unit variances divide by n - 1 (ddof=1) while the pooled variance divides by n; with "
                    "ddof=0 for both the two parts add up to the pooled variance and the share stays in [0, 1]",
        change=(("a.var(axis=0).mean()", "a.var(axis=0, ddof=1).mean()"),),
    ),
]

MISTAKES = (FAN_MISTAKES + GAIN_MISTAKES + XAVIER_UNIFORM_MISTAKES + XAVIER_NORMAL_MISTAKES + KAIMING_UNIFORM_MISTAKES
            + KAIMING_NORMAL_MISTAKES + STATS_MISTAKES + SHARE_MISTAKES)
