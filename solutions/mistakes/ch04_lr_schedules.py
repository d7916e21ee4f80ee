"""Known mistakes of chapter 4: off-by-one decays, the cosine's period and floor, restart bookkeeping, warm-up from 0,
the rate after total_steps, a scheduler's constructor order, param groups and closed form, and SGD's velocity
(dampening on the first step, the rate inside the velocity, Nesterov, in-place updates); the stability limit of
momentum on a bowl (momentum ignored, the methods swapped, the shallowest direction instead of the steepest)."""

from checks.mistakes import Mistake

SCHEDULES = ("The schedules, as torch computes them", "the-schedules-as-torch-computes-them")
LOOP = ("Using a scheduler in a training loop", "using-a-scheduler-in-a-training-loop")
MOMENTUM = ("Momentum: keep rolling where the gradients agree", "momentum-keep-rolling-where-the-gradients-agree")
NESTEROV = ("Nesterov momentum: the gradient one step ahead", "nesterov-momentum-the-gradient-one-step-ahead")

STEP_DECAY = [
    Mistake(
        id="step_decay_one_step_early", target="step_decay", section=SCHEDULES, match=r"one step early",
        explanation="your rates decay one step early ((step + 1) // step_size): StepLR keeps base_lr for steps "
                    "0 .. step_size - 1 and decays AT step == step_size",
        change=(("math.floor(step / step_size)", "math.floor((step + 1) / step_size)"),),
    ),
    Mistake(
        id="step_decay_no_floor", target="step_decay", section=SCHEDULES, match=r"staircase",
        explanation="your rates decay smoothly, gamma ** (step / step_size); step decay is a staircase, "
                    "gamma ** floor(step / step_size), constant between two decays",
        change=(("math.floor(step / step_size)", "step / step_size"),),
    ),
    Mistake(
        id="step_decay_ceil", target="step_decay", section=SCHEDULES, match=r"one step early",
        explanation="your rates count the decays with ceil: step 1 is already decayed; floor(step / step_size) "
                    "keeps base_lr until step_size",
        change=(("math.floor(step / step_size)", "math.ceil(step / step_size)"),),
    ),
]

EXPONENTIAL = [
    Mistake(
        id="exponential_decayed_at_zero", target="exponential_decay", section=SCHEDULES, match=r"undecayed",
        explanation="your rates are already decayed at step 0 (gamma ** (step + 1)); ExponentialLR starts at base_lr",
        change=(("gamma**step", "gamma ** (step + 1)"),),
    ),
    Mistake(
        id="exponential_natural_exp", target="exponential_decay", section=SCHEDULES, match=r"exp\(-gamma",
        explanation="your rates are base_lr * exp(-gamma * step): gamma is the factor per step in torch, "
                    "base_lr * gamma ** step, not a rate constant",
        change=(("base_lr * gamma**step", "base_lr * math.exp(-gamma * step)"),),
    ),
]

COSINE = [
    Mistake(
        id="cosine_ignores_eta_min", target="cosine_annealing", section=SCHEDULES, match=r"ignore eta_min",
        explanation="your cosine ends at 0 whatever eta_min says; it goes from base_lr down to eta_min",
        change=(("return eta_min + (base_lr - eta_min) * cosine / 2", "return base_lr * cosine / 2"),),
    ),
    Mistake(
        id="cosine_t_max_minus_one", target="cosine_annealing", section=SCHEDULES, match=r"T_max - 1",
        explanation="your cosine divides by T_max - 1, so it reaches eta_min one step early; CosineAnnealingLR "
                    "reaches it exactly at step T_max",
        change=(("step / T_max", "step / (T_max - 1)"),),
    ),
    Mistake(
        id="cosine_full_period", target="cosine_annealing", section=SCHEDULES, match=r"HALF a period",
        explanation="your cosine runs a full period (2 pi) and is back at base_lr at T_max; the schedule is half a "
                    "period, cos(pi * step / T_max)",
        change=(("math.pi * step", "2 * math.pi * step"),),
    ),
    Mistake(
        id="cosine_backwards", target="cosine_annealing", section=SCHEDULES, match=r"runs it backwards",
        explanation="your cosine uses 1 - cos, so it starts at eta_min and rises to base_lr; it starts at the top, "
                    "(1 + cos(0)) / 2 = 1",
        change=(("1 + math.cos", "1 - math.cos"),),
    ),
]

RESTARTS = [
    Mistake(
        id="restart_boundary_off_by_one", target="cosine_warm_restarts", section=SCHEDULES, match=r"off by one",
        explanation="your restarts come one step late (step > cycle end instead of >=), so eta_min is returned at "
                    "every restart step; a new cycle starts as soon as T_cur reaches T_i",
        change=(("while step >= cycle_start + cycle_length", "while step > cycle_start + cycle_length"),),
    ),
    Mistake(
        id="restart_never_back_to_base_lr", target="cosine_warm_restarts", section=SCHEDULES,
        match=r"count T_cur from the last restart",
        explanation="your T_cur counts from step 0 instead of from the last restart, so the rate never returns to "
                    "base_lr",
        change=(("T_cur = step - cycle_start", "T_cur = step"),),
    ),
    Mistake(
        id="restart_float_log", target="cosine_warm_restarts", section=SCHEDULES, match=r"floating-point logarithm",
        explanation="your cycle index comes from int(math.log(...)), as torch's step(epoch) computes it: at some "
                    "restarts (363 for T_0=3, T_mult=3) the logarithm is 4.999999999999999 and the step lands at the "
                    "end of the previous cycle; add the integer cycle lengths instead",
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
    Mistake(
        id="restart_ignores_t_mult", target="cosine_warm_restarts", section=SCHEDULES, match=r"ignore T_mult",
        explanation="every one of your cycles lasts T_0 steps: T_mult was ignored; cycle i lasts T_0 * T_mult**i",
        code='''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    T_cur = step % T_0
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_0)) / 2
''',
    ),
    Mistake(
        id="restart_divides_by_t_0", target="cosine_warm_restarts", section=SCHEDULES, match=r"T_cur / T_i",
        explanation="your cycles start at the right steps but the cosine divides T_cur by T_0 instead of the length "
                    "of the current cycle T_i, so later cycles fall to eta_min too early and rise again",
        change=(("math.pi * T_cur / cycle_length", "math.pi * T_cur / T_0"),),
    ),
    Mistake(
        id="restart_truncates_fractional_step", target="cosine_warm_restarts", section=LOOP, match=r"truncate",
        explanation="your function truncates a fractional step (int(step)), so the rate is a staircase inside each "
                    "epoch; torch's scheduler.step(epoch + i / n_batches) follows the cosine between integer steps",
        change=(("    cycle_start, cycle_length = 0, T_0\n",
                 "    step = int(step)\n    cycle_start, cycle_length = 0, T_0\n"),),
    ),
]

WARMUP = [
    Mistake(
        id="warmup_from_zero", target="warmup_cosine", section=SCHEDULES, match=r"not at 0",
        explanation="your warm-up starts at 0 (base_lr * step / warmup_steps); LinearLR starts at "
                    "start_factor * base_lr",
        change=(("base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)",
                 "base_lr * step / warmup_steps"),),
    ),
    Mistake(
        id="warmup_cosine_counted_from_zero", target="warmup_cosine", section=SCHEDULES,
        match=r"count its steps from warmup_steps",
        explanation="your cosine counts its steps from 0 instead of from the end of warm-up, so it is already below "
                    "base_lr at step warmup_steps",
        change=(("progress = (step - warmup_steps) / (total_steps - warmup_steps)", "progress = step / total_steps"),),
    ),
    Mistake(
        id="warmup_cosine_too_long", target="warmup_cosine", section=SCHEDULES,
        match=r"total_steps - warmup_steps steps and reaches eta_min",
        explanation="your cosine lasts total_steps steps instead of total_steps - warmup_steps, so it is still far "
                    "above eta_min just before total_steps",
        change=(("progress = (step - warmup_steps) / (total_steps - warmup_steps)",
                 "progress = (step - warmup_steps) / total_steps"),),
    ),
    Mistake(
        id="warmup_reaches_peak_early", target="warmup_cosine", section=SCHEDULES, match=r"step / warmup_steps",
        explanation="your warm-up divides by warmup_steps - 1 and reaches base_lr one step early; it reaches "
                    "base_lr AT step warmup_steps",
        change=(("* step / warmup_steps)", "* step / max(warmup_steps - 1, 1))"),),
    ),
    Mistake(
        id="warmup_cosine_ignores_eta_min", target="warmup_cosine", section=SCHEDULES, match=r"ignore eta_min",
        explanation="your cosine ends at 0 whatever eta_min says; it goes from base_lr down to eta_min, and stays "
                    "there",
        change=(("        return eta_min\n", "        return 0.0\n"),
                ("return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2",
                 "return base_lr * (1 + math.cos(math.pi * progress)) / 2")),
    ),
    Mistake(
        id="warmup_no_clamp", target="warmup_cosine", section=SCHEDULES, match=r"stays at eta_min",
        explanation="after total_steps your cosine rises again (as torch's SequentialLR does); this exercise's "
                    "contract keeps the rate at eta_min after total_steps",
        change=(("    if step >= total_steps:\n        return eta_min\n", ""),),
    ),
]

SCHEDULER = [
    Mistake(
        id="scheduler_settings_after_super", target="WarmupCosine", section=LOOP, match=r"BEFORE calling super",
        explanation="your constructor calls super().__init__(optimizer) before setting self.warmup_steps and the "
                    "others; LRScheduler.__init__ already calls step(), hence get_lr(), which needs them",
        change=(("        super().__init__(optimizer)  # calls step(), hence get_lr(), once: the settings must exist "
                 "already\n", ""),
                ("        self.warmup_steps = warmup_steps\n",
                 "        super().__init__(optimizer)\n        self.warmup_steps = warmup_steps\n")),
    ),
    Mistake(
        id="scheduler_returns_a_number", target="WarmupCosine", section=LOOP, match=r"LIST of rates",
        explanation="your get_lr() returns a number; torch pairs its result with optimizer.param_groups, so it must "
                    "be a list with one rate per group",
        change=(("return [base_lr * factor for base_lr in self.base_lrs]", "return self.base_lrs[0] * factor"),
                ("return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]",
                 "return self.eta_min + (self.base_lrs[0] - self.eta_min) * cosine")),
    ),
    Mistake(
        id="scheduler_first_group_only", target="WarmupCosine", section=LOOP, match=r"its own base rate",
        explanation="every param group gets the schedule of the first group's rate (self.base_lrs[0]); each group "
                    "follows its own base rate self.base_lrs[i]",
        change=(("return [base_lr * factor for base_lr in self.base_lrs]",
                 "return [self.base_lrs[0] * factor for _ in self.base_lrs]"),
                ("return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]",
                 "return [self.eta_min + (self.base_lrs[0] - self.eta_min) * cosine for _ in self.base_lrs]")),
    ),
    Mistake(
        id="scheduler_from_current_lr", target="WarmupCosine", section=LOOP, match=r"compound",
        explanation="your get_lr() applies the closed form to the optimizer's CURRENT rate group['lr'] instead of "
                    "self.base_lrs, so every step multiplies an already scheduled rate and the schedule compounds",
        change=(("        t = min(self.last_epoch, self.total_steps)",
                 "        current = [group['lr'] for group in self.optimizer.param_groups]\n"
                 "        t = min(self.last_epoch, self.total_steps)"),
                ("return [base_lr * factor for base_lr in self.base_lrs]",
                 "return [base_lr * factor for base_lr in current]"),
                ("return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]",
                 "return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in current]")),
    ),
    Mistake(
        id="scheduler_last_epoch_off_by_one", target="WarmupCosine", section=LOOP, match=r"off by one",
        explanation="your rates are one step ahead (last_epoch + 1): step() increments self.last_epoch BEFORE calling "
                    "get_lr(), so it already is the number of the step whose rate get_lr() returns",
        change=(("t = min(self.last_epoch, self.total_steps)", "t = min(self.last_epoch + 1, self.total_steps)"),),
    ),
    Mistake(
        id="scheduler_no_clamp", target="WarmupCosine", section=SCHEDULES, match=r"stays at eta_min",
        explanation="after total_steps your scheduler's cosine rises again; the contract keeps eta_min after "
                    "total_steps",
        change=(("t = min(self.last_epoch, self.total_steps)", "t = self.last_epoch"),),
    ),
    Mistake(
        id="scheduler_warmup_from_zero", target="WarmupCosine", section=SCHEDULES, match=r"not at 0",
        explanation="your scheduler's warm-up starts at 0; it starts at start_factor * base_lr",
        change=(("factor = self.start_factor + (1 - self.start_factor) * t / self.warmup_steps",
                 "factor = t / self.warmup_steps"),),
    ),
    Mistake(
        id="scheduler_chainable", target="WarmupCosine", section=LOOP, match=r"closed form",
        explanation="your get_lr() is chainable, like torch's own schedulers: it updates the optimizer's current rate "
                    "step by step. That works in one uninterrupted run, but a scheduler restored with load_state_dict "
                    "on a fresh optimizer (or with last_epoch set) goes wrong; the contract asks for the closed form "
                    "of self.last_epoch and self.base_lrs",
        code='''
class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        if not isinstance(warmup_steps, int) or warmup_steps < 1:
            raise ValueError("warmup_steps")
        if not isinstance(total_steps, int) or total_steps <= warmup_steps:
            raise ValueError("total_steps")
        if not 0 < start_factor <= 1 or eta_min < 0:
            raise ValueError("start_factor or eta_min")
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.start_factor, self.eta_min = start_factor, eta_min
        super().__init__(optimizer)

    def get_lr(self):
        t, W, T = self.last_epoch, self.warmup_steps, self.total_steps
        current = [group["lr"] for group in self.optimizer.param_groups]
        if t == 0:
            return [base * self.start_factor for base in self.base_lrs]
        if t <= W:  # add one slice of the linear ramp
            return [lr + base * (1 - self.start_factor) / W for lr, base in zip(current, self.base_lrs)]
        if t > T:
            return current
        ratio = (1 + math.cos(math.pi * (t - W) / (T - W))) / (1 + math.cos(math.pi * (t - W - 1) / (T - W)))
        return [self.eta_min + (lr - self.eta_min) * ratio for lr in current]
''',
    ),
    Mistake(
        id="scheduler_no_validation", target="WarmupCosine", section=SCHEDULES, match=r"ValueError",
        explanation="your constructor accepts arguments that make no schedule (warmup_steps < 1, total_steps <= "
                    "warmup_steps, start_factor outside (0, 1], eta_min < 0); it must raise ValueError",
        change=(('        if not isinstance(warmup_steps, int) or warmup_steps < 1:\n'
                 '            raise ValueError(f"warmup_steps must be an integer >= 1, got {warmup_steps!r}")\n'
                 '        if not isinstance(total_steps, int) or total_steps <= warmup_steps:\n'
                 '            raise ValueError(f"total_steps must be an integer > warmup_steps, got {total_steps!r}")\n'
                 '        if not 0 < start_factor <= 1:\n'
                 '            raise ValueError(f"start_factor must be in (0, 1], got {start_factor!r}")\n'
                 '        if eta_min < 0:\n'
                 '            raise ValueError(f"eta_min must be >= 0, got {eta_min!r}")\n', ""),),
    ),
]

MOMENTUM_STEP = [
    Mistake(
        id="momentum_first_step_dampened", target="sgd_momentum_step", section=MOMENTUM, match=r"WITHOUT dampening",
        explanation="your first velocity is (1 - dampening) * grad, as if the velocity started at zeros; torch's "
                    "momentum buffer starts as a copy of the first gradient, without dampening",
        change=(("new_velocity = grad.clone()", "new_velocity = (1 - dampening) * grad"),),
    ),
    Mistake(
        id="momentum_ignores_dampening", target="sgd_momentum_step", section=MOMENTUM,
        match=r"dampening was ignored",
        explanation="your velocity adds the whole gradient whatever dampening says; torch adds (1 - dampening) * grad",
        change=(("momentum * velocity + (1 - dampening) * grad", "momentum * velocity + grad"),),
    ),
    Mistake(
        id="momentum_running_average", target="sgd_momentum_step", section=MOMENTUM, match=r"running average",
        explanation="your velocity is the running average momentum * v + (1 - momentum) * grad (Adam's first "
                    "moment); torch's SGD adds the gradient with weight 1 - dampening (1 by default), so its velocity "
                    "grows towards grad / (1 - momentum)",
        change=(("momentum * velocity + (1 - dampening) * grad", "momentum * velocity + (1 - momentum) * grad"),),
    ),
    Mistake(
        id="momentum_rate_inside_velocity", target="sgd_momentum_step", section=MOMENTUM, match=r"not inside",
        explanation="your velocity has the rate inside (Sutskever's v = momentum * v - lr * grad, param + v): the "
                    "parameters agree with torch while lr is constant, but torch's velocity is the momentum buffer "
                    "without the rate, and a scheduler's new rate applies at once to all of it",
        code='''
def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    if lr < 0 or momentum <= 0 or not 0 <= dampening <= 1 or (nesterov and dampening != 0):
        raise ValueError("bad argument")
    if velocity is None:
        new_velocity = -lr * grad
    else:
        new_velocity = momentum * velocity - lr * (1 - dampening) * grad
    if nesterov:
        return param + momentum * new_velocity - lr * grad, new_velocity
    return param + new_velocity, new_velocity
''',
    ),
    Mistake(
        id="momentum_nesterov_ignored", target="sgd_momentum_step", section=MOMENTUM, match=r"Nesterov step",
        explanation="your function takes the plain momentum step even with nesterov=True; torch's Nesterov step is "
                    "grad + momentum * v', with the new velocity v'",
        change=(("    if nesterov:\n        direction = grad + momentum * new_velocity\n    else:\n"
                 "        direction = new_velocity\n", "    direction = new_velocity\n"),),
    ),
    Mistake(
        id="momentum_param_in_place", target="sgd_momentum_step", section=MOMENTUM, match=r"in place",
        explanation="your function updates the caller's param in place (param -= ...), as the optimizer does; this "
                    "function returns new tensors and leaves its arguments alone",
        change=(("    new_param = param - lr * direction\n", "    param -= lr * direction\n    new_param = param\n"),),
    ),
    Mistake(
        id="momentum_velocity_in_place", target="sgd_momentum_step", section=MOMENTUM, match=r"in place",
        explanation="your function updates the caller's velocity in place (velocity.mul_(...).add_(...), as torch's "
                    "buffer is updated); this function returns a new velocity and leaves its arguments alone",
        change=(("new_velocity = momentum * velocity + (1 - dampening) * grad",
                 "new_velocity = velocity.mul_(momentum).add_(grad, alpha=1 - dampening)"),),
    ),
    Mistake(
        id="momentum_no_nesterov_check", target="sgd_momentum_step", section=MOMENTUM, match=r"ValueError",
        explanation="your function accepts nesterov=True with a dampening (and other invalid arguments); torch "
                    "rejects Nesterov with a non-zero dampening, and lr < 0, momentum <= 0 or dampening outside "
                    "[0, 1] make no momentum step: raise ValueError",
        change=(('    if lr < 0:\n        raise ValueError(f"lr must be >= 0, got {lr}")\n'
                 '    if momentum <= 0:\n        raise ValueError(f"momentum must be > 0, got {momentum}")\n'
                 '    if not 0 <= dampening <= 1:\n        raise ValueError(f"dampening must be in [0, 1], got '
                 '{dampening}")\n'
                 '    if nesterov and dampening != 0:\n        raise ValueError(f"nesterov momentum requires dampening '
                 '== 0, got {dampening}")\n', ""),),
    ),
]

STABLE_LR = [
    Mistake(
        id="stable_lr_ignores_momentum", target="largest_stable_lr", section=NESTEROV, match=r"plain gradient descent",
        explanation="your limit is 2 / L for both methods, plain gradient descent's: with momentum beta the heavy ball "
                    "converges up to 2 (1 + beta) / L and Nesterov up to 2 (1 + beta) / ((1 + 2 beta) L)",
        change=(("    limit = 2 * (1 + momentum) / steepest\n    if nesterov:\n"
                 "        limit = limit / (1 + 2 * momentum)\n", "    limit = 2 / steepest\n"),),
    ),
    Mistake(
        id="stable_lr_methods_swapped", target="largest_stable_lr", section=NESTEROV, match=r"OTHER method",
        explanation="your limits are swapped: the heavy ball is the method stable up to 2 (1 + beta) / L; Nesterov's "
                    "gradient enters the step twice and brakes, which costs a limit 1 + 2 beta times lower",
        change=(("    if nesterov:\n        limit = limit /", "    if not nesterov:\n        limit = limit /"),),
    ),
    Mistake(
        id="stable_lr_smallest_curvature", target="largest_stable_lr", section=NESTEROV, match=r"smallest curvature",
        explanation="your limit uses the smallest curvature: every direction must converge, and the steepest (the "
                    "largest curvature) is the first to diverge as the rate grows",
        change=(("float(curvatures.max())", "float(curvatures.min())"),),
    ),
]

MISTAKES = STEP_DECAY + EXPONENTIAL + COSINE + RESTARTS + WARMUP + SCHEDULER + MOMENTUM_STEP + STABLE_LR
