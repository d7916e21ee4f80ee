"""Correct rewrites and unseen mistakes of chapter 4."""

REWRITES = [
    ("step_decay", '''
def step_decay(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (step // step_size)
'''),
    ("exponential_decay", '''
def exponential_decay(step, base_lr, gamma):
    return base_lr * math.pow(gamma, step)
'''),
    ("cosine_annealing", '''
def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(step / T_max * math.pi))
'''),
    # T_cur and T_i walked down cycle by cycle (no cycle start kept)
    ("cosine_warm_restarts", '''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    T_cur, T_i = step, T_0
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return eta_min + (base_lr - eta_min) * 0.5 * (1 + math.cos(math.pi * T_cur / T_i))
'''),
    # the closed form with numpy and the end handled first
    ("warmup_cosine", '''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step >= total_steps:
        return float(eta_min)
    if step < warmup_steps:
        start = base_lr * start_factor
        return start + (base_lr - start) * step / warmup_steps
    fraction = (step - warmup_steps) / (total_steps - warmup_steps)
    return float(eta_min + (base_lr - eta_min) * (np.cos(np.pi * fraction) + 1) / 2)
'''),
    # a helper method, settings under other names, one combined check
    ("WarmupCosine", '''
class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        valid = isinstance(warmup_steps, int) and isinstance(total_steps, int) and 1 <= warmup_steps < total_steps
        if not valid or not 0 < start_factor <= 1 or eta_min < 0:
            raise ValueError("invalid WarmupCosine arguments")
        self.W, self.T, self.f, self.low = warmup_steps, total_steps, start_factor, eta_min
        super().__init__(optimizer)

    def _rate(self, base, t):
        if t >= self.T:
            return self.low
        if t < self.W:
            return base * (self.f + (1 - self.f) * t / self.W)
        return self.low + (base - self.low) * (1 + math.cos(math.pi * (t - self.W) / (self.T - self.W))) / 2

    def get_lr(self):
        return [self._rate(base, self.last_epoch) for base in self.base_lrs]
'''),
    # torch's tensor methods with alpha, a torch.where-free branch
    ("sgd_momentum_step", '''
def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    if lr < 0 or momentum <= 0 or not (0 <= dampening <= 1):
        raise ValueError("lr >= 0, momentum > 0 and 0 <= dampening <= 1")
    if nesterov and dampening:
        raise ValueError("Nesterov momentum requires zero dampening")
    v = grad.detach().clone() if velocity is None else velocity.mul(momentum).add(grad, alpha=1 - dampening)
    step = grad.add(v, alpha=momentum) if nesterov else v
    return param.sub(step, alpha=lr), v
'''),
    # the limit of one direction, then the smallest over the directions; Nesterov as its own formula
    ("largest_stable_lr", '''
def largest_stable_lr(curvatures, momentum, nesterov=False):
    lams = np.atleast_1d(np.asarray(curvatures, dtype=float))
    if lams.size == 0 or not (lams > 0).all() or not np.isfinite(lams).all() or not 0 <= momentum < 1:
        raise ValueError("need positive curvatures and 0 <= momentum < 1")
    per_direction = [(2 + 2 * momentum) / ((1 + 2 * momentum) * lam) if nesterov else (2 + 2 * momentum) / lam
                     for lam in lams]
    return min(per_direction)
'''),
]

UNSEEN = [
    # decays one step LATE
    ("step_decay", '''
def step_decay(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** max(0, (step - 1) // step_size)
''', ()),
    # cycle i lasts T_0 * T_mult ** (i + 1): the exponent is off by one
    ("cosine_warm_restarts", '''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    start, length = 0, T_0 * T_mult
    while step >= start + length:
        start += length
        length *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (step - start) / length)) / 2
''', ()),
    # warm-up that ends at start_factor * base_lr + (base_lr - ...) one step late (divides by warmup_steps + 1)
    ("warmup_cosine", '''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / (warmup_steps + 1))
    if step >= total_steps:
        return eta_min
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2
''', ()),
    # the scheduler ignores eta_min (a mistake catalogued for the function, not for the class)
    ("WarmupCosine", '''
class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        if not 1 <= warmup_steps < total_steps or not 0 < start_factor <= 1 or eta_min < 0:
            raise ValueError("bad arguments")
        self.warmup_steps, self.total_steps, self.start_factor = warmup_steps, total_steps, start_factor
        super().__init__(optimizer)

    def get_lr(self):
        t = min(self.last_epoch, self.total_steps)
        if t < self.warmup_steps:
            return [b * (self.start_factor + (1 - self.start_factor) * t / self.warmup_steps) for b in self.base_lrs]
        progress = (t - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return [b * (1 + math.cos(math.pi * progress)) / 2 for b in self.base_lrs]
''', ()),
    # the scheduler counts its own steps in get_lr() instead of reading last_epoch: right in one run, wrong when
    # last_epoch is set (the counter is saved by state_dict(), so resuming works)
    ("WarmupCosine", '''
class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        if not 1 <= warmup_steps < total_steps or not 0 < start_factor <= 1 or eta_min < 0:
            raise ValueError("bad arguments")
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.start_factor, self.eta_min = start_factor, eta_min
        self.calls = 0
        super().__init__(optimizer)

    def get_lr(self):
        t = min(self.calls, self.total_steps)
        self.calls += 1
        if t < self.warmup_steps:
            return [b * (self.start_factor + (1 - self.start_factor) * t / self.warmup_steps) for b in self.base_lrs]
        progress = (t - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * progress)) / 2 for b in self.base_lrs]
''', ()),
    # steps up the gradient
    ("sgd_momentum_step", '''
def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    if lr < 0 or momentum <= 0 or not 0 <= dampening <= 1 or (nesterov and dampening != 0):
        raise ValueError("bad argument")
    v = grad.clone() if velocity is None else momentum * velocity + (1 - dampening) * grad
    d = grad + momentum * v if nesterov else v
    return param + lr * d, v
''', ()),
    # returns the OLD velocity (the caller never sees the update)
    ("sgd_momentum_step", '''
def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    if lr < 0 or momentum <= 0 or not 0 <= dampening <= 1 or (nesterov and dampening != 0):
        raise ValueError("bad argument")
    v = grad.clone() if velocity is None else momentum * velocity + (1 - dampening) * grad
    d = grad + momentum * v if nesterov else v
    return param - lr * d, (grad.clone() if velocity is None else velocity.clone())
''', ()),
    # the mean curvature of the bowl stands for the bowl (neither the steepest nor the shallowest direction)
    ("largest_stable_lr", '''
def largest_stable_lr(curvatures, momentum, nesterov=False):
    L = float(np.mean(curvatures))
    if L <= 0 or not 0 <= momentum < 1:
        raise ValueError("bad arguments")
    return 2 * (1 + momentum) / ((1 + 2 * momentum) * L if nesterov else L)
''', ()),
]

# Common mistakes written from scratch (see tests/answers/ch01_normalization.py): (answer, code, the catalogued
# mistake it must be diagnosed as or None, what the student did).
COMMON = [
    ("step_decay", '''
def step_decay(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** ((step + 1) // step_size)
''', "step_decay_one_step_early", "(step + 1) // step_size: the decay one step early"),
    ("step_decay", '''
def step_decay(step, base_lr, step_size, gamma=0.1):
    lr = base_lr * math.pow(gamma, step / step_size)
    return float(lr)
''', "step_decay_no_floor", "a smooth decay, no staircase"),
    ("exponential_decay", '''
def exponential_decay(step, base_lr, gamma):
    return base_lr * math.exp(-gamma * step)
''', "exponential_natural_exp", "e^(-gamma t) instead of gamma^t"),
    ("cosine_annealing", '''
def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    return 0.5 * base_lr * (1 + math.cos(step / T_max * math.pi))
''', "cosine_ignores_eta_min", "the cosine down to 0, eta_min ignored"),
    ("cosine_warm_restarts", '''
def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    if T_mult == 1:
        T_i = T_0
        T_cur = step % T_0
    else:
        i = int(math.log(step / T_0 * (T_mult - 1) + 1, T_mult))
        T_i = T_0 * T_mult ** i
        T_cur = step - T_0 * (T_mult ** i - 1) / (T_mult - 1)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2
''', "restart_float_log", "finds the cycle with a floating-point logarithm"),
    ("warmup_cosine", '''
def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    if step > total_steps:
        return eta_min
    frac = (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + 0.5 * (base_lr - eta_min) * (1 + math.cos(math.pi * frac))
''', "warmup_from_zero", "the warm-up starts at 0, not start_factor * base_lr"),
    ("WarmupCosine", '''
class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        if not (isinstance(warmup_steps, int) and isinstance(total_steps, int)) or not 1 <= warmup_steps < total_steps:
            raise ValueError("need integers 1 <= warmup_steps < total_steps")
        if not 0 < start_factor <= 1 or eta_min < 0:
            raise ValueError("bad start_factor or eta_min")
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.start_factor, self.eta_min = start_factor, eta_min
        super().__init__(optimizer)

    def get_lr(self):
        t = self.last_epoch
        rates = []
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            if t == 0:
                rates.append(base * self.start_factor)
            elif t <= self.warmup_steps:
                prev = self.start_factor + (1 - self.start_factor) * (t - 1) / self.warmup_steps
                now = self.start_factor + (1 - self.start_factor) * t / self.warmup_steps
                rates.append(group["lr"] * now / prev)
            elif t <= self.total_steps:
                k = t - self.warmup_steps
                n = self.total_steps - self.warmup_steps
                ratio = (1 + math.cos(math.pi * k / n)) / (1 + math.cos(math.pi * (k - 1) / n))
                rates.append(self.eta_min + (group["lr"] - self.eta_min) * ratio)
            else:
                rates.append(self.eta_min)
        return rates
''', "scheduler_chainable", "a chainable get_lr that reads group['lr']"),
    ("sgd_momentum_step", '''
def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    if lr < 0 or momentum <= 0 or not 0 <= dampening <= 1 or (nesterov and dampening != 0):
        raise ValueError("invalid hyper-parameters")
    if velocity is None:
        velocity = torch.zeros_like(param)
    v = momentum * velocity - lr * (1 - dampening) * grad
    if nesterov:
        return param + momentum * v - lr * grad, v
    return param + v, v
''', "momentum_rate_inside_velocity", "Sutskever's velocity, the rate inside it"),
    ("sgd_momentum_step", '''
def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    if lr < 0:
        raise ValueError("lr")
    if momentum <= 0:
        raise ValueError("momentum")
    if dampening < 0 or dampening > 1:
        raise ValueError("dampening")
    if nesterov and dampening:
        raise ValueError("nesterov needs dampening 0")
    prev = torch.zeros_like(grad) if velocity is None else velocity
    buf = momentum * prev + (1 - dampening) * grad
    step = grad + momentum * buf if nesterov else buf
    return param - lr * step, buf
''', "momentum_first_step_dampened", "the first velocity from zeros: the first step dampened"),
    ("largest_stable_lr", '''
def largest_stable_lr(curvatures, momentum, nesterov=False):
    if momentum >= 1:
        raise ValueError("momentum must be < 1")
    L = max(np.ravel(curvatures))
    if min(np.ravel(curvatures)) <= 0:
        raise ValueError("curvatures must be positive")
    return 2 / L
''', "stable_lr_ignores_momentum", "plain gradient descent's 2 / L for both methods"),
]
