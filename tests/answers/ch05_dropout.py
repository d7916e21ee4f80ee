"""Correct rewrites and unseen mistakes of chapter 5."""

REWRITES = [
    # Bernoulli draws instead of uniform ones, x itself at evaluation (allowed), p checked by hand.
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if p < 0 or p > 1:
        raise ValueError(f"p = {p} is not a probability")
    if not training or p == 0:
        return x, torch.ones_like(x)
    if p == 1:
        return x * 0.0, torch.zeros_like(x)
    keep = torch.bernoulli(torch.full_like(x, 1.0 - p), generator=generator)
    mask = keep * (1.0 / (1.0 - p))
    return x * mask, mask
'''),
    # keep when u < 1 - p, torch.where, a copy at evaluation
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if not (0.0 <= p <= 1.0):
        raise ValueError("p must lie in [0, 1]")
    if training and p == 1.0:
        mask = x.new_zeros(x.shape)
    elif training and p > 0.0:
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
        mask = torch.where(u < 1.0 - p, u.new_full((), 1.0 / (1.0 - p)), u.new_zeros(()))
    else:
        return x.clone(), x.new_ones(x.shape)
    return torch.mul(x, mask), mask
'''),
    ("dropout_backward", '''
def dropout_backward(grad_out, mask):
    return torch.mul(mask, grad_out)
'''),
    # torch's own functional dropout is the reference behaviour
    ("Dropout", '''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        return torch.nn.functional.dropout(x, self.p, self.training)
'''),
    ("Dropout", '''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError("drop probability outside [0, 1]")
        self.p = float(p)

    def forward(self, x):
        if not self.training:
            return x.clone()
        if self.p == 1.0:
            return x * 0.0
        mask = torch.empty_like(x).bernoulli_(1.0 - self.p) / (1.0 - self.p)
        return x * mask
'''),
    ("dropout2d_forward", '''
def dropout2d_forward(x, p, training=True, generator=None):
    if p < 0 or p > 1:
        raise ValueError("p")
    if x.ndim == 4:
        shape = (x.shape[0], x.shape[1], 1, 1)
    elif x.ndim == 3:
        shape = (x.shape[0], x.shape[1], 1)
    else:
        raise ValueError("x must be (N, C, H, W) or (N, C, L)")
    if not training or p == 0:
        return x, x.new_ones(shape)
    if p == 1:
        return torch.zeros_like(x), x.new_zeros(shape)
    mask = x.new_empty(shape).bernoulli_(1 - p, generator=generator).div_(1 - p)
    return x * mask, mask
'''),
    # named modules, per-module train(mode) restored parents first, inference mode, std from raw moments
    ("mc_dropout_predict", '''
def mc_dropout_predict(model, x, n_samples):
    if int(n_samples) != n_samples or n_samples <= 0:
        raise ValueError("n_samples must be a positive integer")
    saved = [(m, m.training) for _, m in model.named_modules()]
    for _, m in model.named_modules():
        m.training = isinstance(m, (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
                                    torch.nn.AlphaDropout))
    total = total_sq = 0.0
    try:
        with torch.inference_mode():
            for _ in range(n_samples):
                y = model(x)
                total = total + y
                total_sq = total_sq + y * y
    finally:
        for m, mode in saved:
            m.train(mode)
    mean = total / n_samples
    return mean.clone(), (total_sq / n_samples - mean**2).clamp_min(0.0).sqrt()
'''),
    # the discordant counts from a 2x2 table, the p-value from scipy's formula written with lgamma
    ("mcnemar", '''
def mcnemar(correct_a, correct_b):
    if correct_a.numel() != correct_b.numel():
        raise ValueError("the two vectors must have one entry per example")
    table = torch.zeros(2, 2, dtype=torch.long)
    for a, b in zip(correct_a.tolist(), correct_b.tolist()):
        table[int(a), int(b)] += 1
    only_a, only_b = int(table[1, 0]), int(table[0, 1])
    n, k = only_a + only_b, min(only_a, only_b)
    log_terms = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) - n * math.log(2)
                 for j in range(k + 1)]
    return only_a, only_b, min(1.0, 2 * sum(math.exp(t) for t in log_terms))
'''),
]

UNSEEN = [
    # keeps an entry when u > 1 - p: the keep probability is p, yet the scale is 1/(1-p)
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        return x, torch.ones_like(x)
    if p == 1.0:
        return x * 0.0, torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) > 1.0 - p
    mask = keep.to(x.dtype) / (1.0 - p)
    return x * mask, mask
''', ()),
    # (mask, out) in the wrong order
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
    return mask, x * mask
''', ("forward_detaches",)),  # true of what it returns as out: the mask, which no gradient connects to x
    # the average scale instead of the mask
    ("dropout_backward", '''
def dropout_backward(grad_out, mask):
    return grad_out * mask.mean()
''', ()),
    # torch's functional dropout with the keep probability
    ("Dropout", '''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        return torch.nn.functional.dropout(x, 1.0 - self.p, self.training)
''', ("module_keep_prob",)),
    # F.dropout without the training flag: drops in evaluation mode
    ("Dropout", '''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        return torch.nn.functional.dropout(x, self.p)
''', ("module_drops_at_eval",)),
    # a mask of shape (N, C) broadcast by hand: the contract's (N, C, 1, 1) shape is not returned
    ("dropout2d_forward", '''
def dropout2d_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0 or x.dim() not in (3, 4):
        raise ValueError(p)
    if not training or p == 0.0:
        mask = torch.ones(x.shape[:2], dtype=x.dtype)
    elif p == 1.0:
        mask = torch.zeros(x.shape[:2], dtype=x.dtype)
    else:
        mask = (torch.rand(x.shape[:2], generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
    return x * mask.reshape(mask.shape + (1,) * (x.dim() - 2)), mask
''', ()),
    # one batched call on a repeated x: valid Monte Carlo draws, but not the contract's t-th call
    ("mc_dropout_predict", '''
def mc_dropout_predict(model, x, n_samples):
    if n_samples < 1:
        raise ValueError(n_samples)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    with torch.no_grad():
        y = model(x.repeat(n_samples, *([1] * (x.dim() - 1))))
    for m, mode in modes.items():
        m.training = mode
    y = y.reshape(n_samples, x.shape[0], *y.shape[1:])
    return y.mean(dim=0), y.std(dim=0, correction=0)
''', ()),
    # re-seeds torch at every pass: the same masks every time, std 0
    ("mc_dropout_predict", '''
def mc_dropout_predict(model, x, n_samples):
    if n_samples < 1:
        raise ValueError(n_samples)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    outs = []
    with torch.no_grad():
        for _ in range(n_samples):
            torch.manual_seed(0)
            outs.append(model(x))
    for m, mode in modes.items():
        m.training = mode
    y = torch.stack(outs)
    return y.mean(dim=0), y.std(dim=0, correction=0)
''', ()),
    # statistics over the batch instead of over the samples
    ("mc_dropout_predict", '''
def mc_dropout_predict(model, x, n_samples):
    if n_samples < 1:
        raise ValueError(n_samples)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    with torch.no_grad():
        y = torch.stack([model(x) for _ in range(n_samples)], dim=1)
    for m, mode in modes.items():
        m.training = mode
    return y.mean(dim=0), y.std(dim=0, correction=0)
''', ()),
    # the mid-p variant (half the probability of the observed count)
    ("mcnemar", '''
def mcnemar(correct_a, correct_b):
    if correct_a.shape != correct_b.shape:
        raise ValueError("lengths differ")
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((correct_b & ~correct_a).sum())
    n, k = only_a + only_b, min(only_a, only_b)
    tail = sum(math.comb(n, j) for j in range(k)) / 2**n + 0.5 * math.comb(n, k) / 2**n
    return only_a, only_b, min(1.0, 2 * tail)
''', ()),
    # the two counts swapped
    ("mcnemar", '''
def mcnemar(correct_a, correct_b):
    if correct_a.shape != correct_b.shape:
        raise ValueError("lengths differ")
    only_b = int((correct_a & ~correct_b).sum())
    only_a = int((correct_b & ~correct_a).sum())
    n = only_a + only_b
    tail = sum(math.comb(n, j) for j in range(min(only_a, only_b) + 1)) / 2**n
    return only_a, only_b, min(1.0, 2 * tail)
''', ()),
]

# Common mistakes written from scratch (see tests/answers/ch01_normalization.py): (answer, code, the catalogued
# mistake it must be diagnosed as or None, what the student did). Masks are drawn the way each student happens to
# draw them (other numbers than the reference's): the diagnosis compares frequencies and scales.
COMMON = [
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if p < 0 or p > 1:
        raise ValueError("p must be a probability")
    if not training:
        return x.clone(), torch.ones_like(x)
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    mask = (u < p).to(x.dtype) / p
    return x * mask, mask
''', "forward_keep_prob_convention", "p used as the keep probability (CS231n)"),
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(f"bad p {p}")
    if not training or p == 0:
        return x, torch.ones_like(x)
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) > p
    mask = keep.to(x.dtype)
    return x * mask, mask
''', "forward_no_rescale", "no 1/(1-p) rescaling"),
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p")
    if not training or p == 0.0:
        return x, torch.ones_like(x)
    if p == 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = torch.empty_like(x).bernoulli_(1 - p, generator=generator) / (1 - p)
    x *= mask
    return x, mask
''', "forward_in_place", "x *= mask: the caller's x changed"),
    ("dropout_forward", '''
def dropout_forward(x, p, training=True, generator=None):
    if p < 0.0 or p > 1.0:
        raise ValueError("p must be in [0, 1]")
    if p == 1.0:
        return torch.zeros_like(x), torch.zeros_like(x)
    if p == 0.0:
        return x, torch.ones_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
    return x * mask, mask
''', "forward_drops_at_eval", "ignores training=False"),
    ("dropout_backward", '''
def dropout_backward(grad_out, mask):
    p = 0.5
    new_mask = (torch.rand(grad_out.shape, dtype=grad_out.dtype) > p).to(grad_out.dtype) / (1 - p)
    return grad_out * new_mask
''', "backward_new_mask", "draws a new mask in the backward pass"),
    ("Dropout", '''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError("p out of range")
        self.p = p

    def forward(self, x):
        if self.training:
            if self.p == 1:
                return torch.zeros_like(x)
            keep = (torch.rand_like(x) >= self.p).to(x.dtype)
            return x * keep
        return x * (1 - self.p)
''', "module_scales_at_eval", "the original paper's rule: no rescale in training, times (1 - p) at evaluation"),
    ("dropout2d_forward", '''
def dropout2d_forward(x, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError("p")
    if x.ndim not in (3, 4):
        raise ValueError("x must be (N, C, L) or (N, C, H, W)")
    if not training or p == 0:
        return x, torch.ones(x.shape[:2] + (1,) * (x.ndim - 2), dtype=x.dtype)
    if p == 1:
        return torch.zeros_like(x), torch.zeros(x.shape[:2] + (1,) * (x.ndim - 2), dtype=x.dtype)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    return x * mask, mask
''', "d2_elementwise", "one draw per entry, as in dropout_forward"),
    ("mc_dropout_predict", '''
def mc_dropout_predict(model, x, n_samples):
    if n_samples < 1:
        raise ValueError("n_samples must be positive")
    saved = {name: m.training for name, m in model.named_modules()}
    model.train()
    outs = []
    with torch.no_grad():
        for _ in range(n_samples):
            outs.append(model(x))
    for name, m in model.named_modules():
        m.training = saved[name]
    outs = torch.stack(outs)
    return outs.mean(0), outs.std(0, unbiased=False)
''', "mc_model_train", "model.train(): batch norm in training mode too"),
    ("mc_dropout_predict", '''
def mc_dropout_predict(model, x, n_samples):
    if n_samples < 1:
        raise ValueError("at least one sample")
    modes = [m.training for m in model.modules()]
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.dropout._DropoutNd):
            m.train()
    with torch.no_grad():
        ys = torch.stack([model(x) for _ in range(n_samples)])
    for m, mode in zip(model.modules(), modes):
        m.train(mode)
    return ys.mean(dim=0), ys.std(dim=0)
''', "mc_std_unbiased", "torch.std's default n - 1"),
    ("mcnemar", '''
def mcnemar(correct_a, correct_b):
    if len(correct_a) != len(correct_b):
        raise ValueError("different lengths")
    b = int(torch.sum(correct_a & ~correct_b))
    c = int(torch.sum(~correct_a & correct_b))
    n = b + c
    p = 0.0
    for k in range(0, min(b, c) + 1):
        p += math.comb(n, k) * 0.5 ** n
    return b, c, p
''', "mcnemar_one_sided", "the tail, not doubled"),
    ("mcnemar", '''
def mcnemar(correct_a, correct_b):
    if len(correct_a) != len(correct_b):
        raise ValueError("different lengths")
    n = len(correct_a)
    p1 = correct_a.double().mean().item()
    p2 = correct_b.double().mean().item()
    p = (p1 + p2) / 2
    if p in (0.0, 1.0):
        pval = 1.0
    else:
        z = (p2 - p1) / math.sqrt(p * (1 - p) * 2 / n)
        pval = 2 * 0.5 * math.erfc(abs(z) / math.sqrt(2))
    return int((correct_a & ~correct_b).sum()), int((correct_b & ~correct_a).sum()), pval
''', "mcnemar_unpaired", "a two-proportion z-test"),
]
