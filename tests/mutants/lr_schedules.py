"""Mistakes students make when writing learning-rate schedules as functions of the step."""

from tests.mutants import Mutant

CHAPTER = "04-lr-schedules"

MUTANTS = [
    # ---------------------------------------------------------------- step_decay
    Mutant(
        name="step_decay_one_step_early",
        target="step_decay",
        mistake="decays one step early: gamma ** ((step + 1) // step_size)",
        match=r"one step early",
        code='''
def step_decay(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** ((step + 1) // step_size)
''',
    ),
    Mutant(
        name="step_decay_no_floor",
        target="step_decay",
        mistake="forgets the floor: gamma ** (step / step_size) decays smoothly instead of in stairs",
        match=r"staircase",
        code='''
def step_decay(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (step / step_size)
''',
    ),
    Mutant(
        name="step_decay_ceil",
        target="step_decay",
        mistake="rounds the number of decays up (ceil), so step 1 is already decayed",
        match=r"one step early",
        code='''
def step_decay(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** math.ceil(step / step_size)
''',
    ),
    # ---------------------------------------------------------------- exponential_decay
    Mutant(
        name="exponential_decayed_at_zero",
        target="exponential_decay",
        mistake="already decayed at step 0: gamma ** (step + 1)",
        match=r"undecayed",
        code='''
def exponential_decay(step, base_lr, gamma):
    return base_lr * gamma ** (step + 1)
''',
    ),
    Mutant(
        name="exponential_natural_exp",
        target="exponential_decay",
        mistake="treats gamma as a rate in exp(-gamma * step) instead of a factor per step",
        match=r"exp\(-gamma",
        code='''
def exponential_decay(step, base_lr, gamma):
    return base_lr * math.exp(-gamma * step)
''',
    ),
    # ---------------------------------------------------------------- cosine_annealing
    Mutant(
        name="cosine_ignores_eta_min",
        target="cosine_annealing",
        mistake="anneals to 0 whatever eta_min says",
        match=r"ignore eta_min",
        code='''
def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    return base_lr * (1 + math.cos(math.pi * step / T_max)) / 2
''',
    ),
    Mutant(
        name="cosine_t_max_minus_one",
        target="cosine_annealing",
        mistake="divides by T_max - 1, so eta_min is reached one step early",
        match=r"T_max - 1",
        code='''
def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / (T_max - 1))) / 2
''',
    ),
    Mutant(
        name="cosine_full_period",
        target="cosine_annealing",
        mistake="uses a full cosine period (2 pi), so the rate is back at base_lr at T_max",
        match=r"HALF a period",
        code='''
def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(2 * math.pi * step / T_max)) / 2
''',
    ),
    Mutant(
        name="cosine_decreasing_wrong_way",
        target="cosine_annealing",
        mistake="uses 1 - cos, so the rate starts at eta_min and rises to base_lr",
        match=r"runs it backwards",
        code='''
def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 - math.cos(math.pi * step / T_max)) / 2
''',
    ),
    # ---------------------------------------------------------------- cosine_warm_restarts
    Mutant(
        name="restart_boundary_off_by_one",
        target="cosine_warm_restarts",
        mistake="restarts one step late (step > cycle end instead of >=), so eta_min is emitted at the boundary",
        match=r"off by one",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    start, length = 0, T_0
    while step > start + length:
        start += length
        length *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (step - start) / length)) / 2
''',
    ),
    Mutant(
        name="restart_never_back_to_base_lr",
        target="cosine_warm_restarts",
        mistake="counts T_cur from step 0 instead of from the last restart, so the rate never returns to base_lr",
        match=r"count T_cur from the last restart",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    start, length = 0, T_0
    while step >= start + length:
        start += length
        length *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / length)) / 2
''',
    ),
    Mutant(
        name="restart_float_log",
        target="cosine_warm_restarts",
        mistake="finds the cycle with int(math.log(...)), as torch's step(epoch) does, which misses some restarts",
        match=r"floating-point logarithm",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    if step < T_0:
        T_cur, T_i = step, T_0
    elif T_mult == 1:
        T_cur, T_i = step % T_0, T_0
    else:
        n = int(math.log(step / T_0 * (T_mult - 1) + 1, T_mult))
        T_cur = step - T_0 * (T_mult**n - 1) / (T_mult - 1)
        T_i = T_0 * T_mult**n
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2
''',
    ),
    Mutant(
        name="restart_ignores_t_mult",
        target="cosine_warm_restarts",
        mistake="every cycle lasts T_0 steps: T_mult ignored",
        match=r"ignore T_mult",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    T_cur = step % T_0
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_0)) / 2
''',
    ),
    Mutant(
        name="restart_divides_by_t_0",
        target="cosine_warm_restarts",
        mistake="finds the cycles right but divides T_cur by T_0 instead of the current cycle length T_i",
        match=r"T_cur / T_i",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    start, length = 0, T_0
    while step >= start + length:
        start += length
        length *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (step - start) / T_0)) / 2
''',
    ),
    Mutant(
        name="restart_truncates_fractional_step",
        target="cosine_warm_restarts",
        mistake="truncates a fractional step to an integer (int(step)), so the rate is a staircase within epochs",
        match=r"truncate",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    step = int(step)
    start, length = 0, T_0
    while step >= start + length:
        start += length
        length *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (step - start) / length)) / 2
''',
    ),
    # ---------------------------------------------------------------- warmup_cosine
    Mutant(
        name="warmup_from_zero",
        target="warmup_cosine",
        mistake="warm-up starts at 0 (base_lr * step / warmup_steps) instead of start_factor * base_lr",
        match=r"not at 0",
        code='''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2
''',
    ),
    Mutant(
        name="warmup_cosine_counted_from_zero",
        target="warmup_cosine",
        mistake="the cosine counts steps from 0 instead of from the end of warm-up",
        match=r"count its steps from warmup_steps",
        code='''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / total_steps)) / 2
''',
    ),
    Mutant(
        name="warmup_cosine_too_long",
        target="warmup_cosine",
        mistake="the cosine lasts total_steps instead of total_steps - warmup_steps, so it never reaches eta_min",
        match=r"total_steps - warmup_steps steps and reaches eta_min",
        code='''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    progress = (step - warmup_steps) / total_steps
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2
''',
    ),
    Mutant(
        name="warmup_reaches_peak_early",
        target="warmup_cosine",
        mistake="linear warm-up divides by warmup_steps - 1, reaching base_lr one step early",
        match=r"step / warmup_steps",
        code='''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / max(warmup_steps - 1, 1))
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2
''',
    ),
    Mutant(
        name="warmup_cosine_ignores_eta_min",
        target="warmup_cosine",
        mistake="the cosine ends at 0 whatever eta_min says",
        match=r"ignore eta_min",
        code='''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return base_lr * (1 + math.cos(math.pi * progress)) / 2
''',
    ),
]
