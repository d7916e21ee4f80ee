"""Correct rewrites and unseen mistakes of chapter 6."""

REWRITES = [
    # torch.var_mean, rsqrt and lerp; an extra cache entry is allowed
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        n = x.shape[0]
        if n <= 1:
            raise ValueError("batch norm needs at least two samples in training")
        var, mean = torch.var_mean(x, dim=0, correction=0)
        scale = torch.rsqrt(var + eps)
        xhat = (x - mean) * scale
        new_mean = torch.lerp(running_mean, mean.detach(), momentum)
        new_var = torch.lerp(running_var, x.detach().var(dim=0, correction=1), momentum)
    else:
        scale = (running_var + eps).rsqrt()
        xhat = (x - running_mean) * scale
        new_mean, new_var = running_mean.detach().clone(), running_var.detach().clone()
    cache = {"xhat": xhat.detach(), "gamma": gamma.detach(), "inv_std": scale.detach(), "training": training}
    return xhat * gamma + beta, new_mean, new_var, cache
'''),
    # torch's own functional batch norm on copies of the running statistics (it updates them in place)
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    new_mean, new_var = running_mean.clone(), running_var.clone()
    out = F.batch_norm(x, new_mean, new_var, gamma, beta, training=training, momentum=momentum, eps=eps)
    if training:
        mean, var = x.detach().mean(dim=0), x.detach().var(dim=0, correction=0)
    else:
        mean, var = running_mean, running_var
    inv_std = 1 / (var + eps).sqrt()
    return out, new_mean, new_var, dict(xhat=((x.detach() - mean) * inv_std), gamma=gamma.detach(), inv_std=inv_std)
'''),
    # node by node through the computational graph: s = inv_std, c = x - mean = xhat / s
    ("batchnorm_backward", '''
def batchnorm_backward(grad_out, cache):
    xhat, gamma, s = cache["xhat"], cache["gamma"], cache["inv_std"]
    N = xhat.shape[0]
    c = xhat / s
    dxhat = grad_out * gamma
    ds = (dxhat * c).sum(dim=0)
    dvar = ds * (-0.5) * s**3
    dc = dxhat * s + dvar * 2.0 * c / N
    dmu = -dc.sum(dim=0)
    dx = dc + dmu / N
    return dx, (grad_out * xhat).sum(dim=0), grad_out.sum(dim=0)
'''),
    # the simplified form written with means
    ("batchnorm_backward", '''
def batchnorm_backward(grad_out, cache):
    g = grad_out * cache["gamma"]
    xhat = cache["xhat"]
    dx = cache["inv_std"] * (g - g.mean(0) - xhat * (g * xhat).mean(0))
    return dx, torch.einsum("nd,nd->d", grad_out, xhat), grad_out.sum(0)
'''),
    # torch's functional batch norm on the buffers (it updates them in place, without autograd history)
    ("BatchNorm1d", '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)
'''),
    # calling batchnorm_forward is allowed (a wrong batchnorm_forward then fails this test too)
    ("BatchNorm1d", '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        out, new_mean, new_var, _ = batchnorm_forward(x, self.weight, self.bias, self.running_mean,
                                                      self.running_var, training=self.training,
                                                      momentum=self.momentum, eps=self.eps)
        if self.training:
            with torch.no_grad():
                self.running_mean.copy_(new_mean)
                self.running_var.copy_(new_var)
        return out
'''),
    # sorted from the largest rate down, the first run that trained; finiteness tested with torch
    ("largest_trainable_lr", '''
def largest_trainable_lr(lrs, curves, threshold):
    if not lrs or len(lrs) != len(curves):
        raise ValueError("need one curve per learning rate")
    for lr, curve in sorted(zip(lrs, curves), key=lambda pair: pair[0], reverse=True):
        last = float(curve[-1])
        if bool(torch.isfinite(torch.tensor(last))) and last < threshold:
            return lr
    return None
'''),
]

UNSEEN = [
    # the variance without centring, E[x^2] instead of E[(x - mean)^2]
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        n = x.shape[0]
        if n < 2:
            raise ValueError("one sample")
        mean, var = x.mean(dim=0), (x ** 2).mean(dim=0)
        inv_std = 1 / torch.sqrt(var + eps)
        xhat = (x - mean) * inv_std
        new_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        new_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
    else:
        inv_std = 1 / torch.sqrt(running_var + eps)
        xhat = (x - running_mean) * inv_std
        new_mean, new_var = running_mean.clone(), running_var.clone()
    return gamma * xhat + beta, new_mean, new_var, {"xhat": xhat.detach(), "gamma": gamma, "inv_std": inv_std}
''', ()),
    # evaluation divides by the running variance instead of its square root
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        n = x.shape[0]
        if n < 2:
            raise ValueError("one sample")
        mean, var = x.mean(dim=0), x.var(dim=0, correction=0)
        inv_std = 1 / torch.sqrt(var + eps)
        xhat = (x - mean) * inv_std
        new_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        new_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
    else:
        inv_std = 1 / (running_var + eps)
        xhat = (x - running_mean) * inv_std
        new_mean, new_var = running_mean.clone(), running_var.clone()
    return gamma * xhat + beta, new_mean, new_var, {"xhat": xhat.detach(), "gamma": gamma, "inv_std": inv_std}
''', ()),
    # the variance path summed where it must be averaged (a factor N too large)
    ("batchnorm_backward", '''
def batchnorm_backward(grad_out, cache):
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    g = grad_out * gamma
    dx = inv_std * (g - g.mean(dim=0) - xhat * (g * xhat).sum(dim=0))
    return dx, (grad_out * xhat).sum(dim=0), grad_out.sum(dim=0)
''', ()),
    # dx from the centred input instead of xhat in the variance term (inv_std missing there)
    ("batchnorm_backward", '''
def batchnorm_backward(grad_out, cache):
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    n = grad_out.shape[0]
    g = grad_out * gamma
    c = xhat / inv_std
    dx = inv_std / n * (n * g - g.sum(dim=0) - c * (g * xhat).sum(dim=0))
    return dx, (grad_out * xhat).sum(dim=0), grad_out.sum(dim=0)
''', ()),
    # running_var updated with the biased batch variance inside the module
    ("BatchNorm1d", '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            if x.shape[0] < 2:
                raise ValueError("one sample")
            mean, var = x.mean(0), x.var(0, correction=0)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias
''', ()),
    # eps left out at evaluation
    ("BatchNorm1d", '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if not self.training:
            return self.weight * (x - self.running_mean) / self.running_var.sqrt() + self.bias
        n = x.shape[0]
        if n < 2:
            raise ValueError("one sample")
        mean, var = x.mean(0), x.var(0, correction=0)
        with torch.no_grad():
            self.running_mean.copy_((1 - self.momentum) * self.running_mean + self.momentum * mean)
            self.running_var.copy_((1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1))
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias
''', ()),
    # the smallest loss of the curve, not the last one, compared with the threshold
    ("largest_trainable_lr", '''
def largest_trainable_lr(lrs, curves, threshold):
    if len(lrs) == 0 or len(lrs) != len(curves):
        raise ValueError("one loss curve per learning rate")
    trained = [lr for lr, curve in zip(lrs, curves) if min(curve) < threshold]
    return max(trained) if trained else None
''', ()),
    # the rate just above the largest that trained (the first that failed)
    ("largest_trainable_lr", '''
def largest_trainable_lr(lrs, curves, threshold):
    if len(lrs) == 0 or len(lrs) != len(curves):
        raise ValueError("one loss curve per learning rate")
    ordered = sorted(zip(lrs, curves))
    for lr, curve in ordered:
        if not curve[-1] < threshold:
            return lr
    return None
''', ()),
    # two mistakes at once: a NaN passes 'not above', and a tie counts (> instead of >=)
    ("largest_trainable_lr", '''
def largest_trainable_lr(lrs, curves, threshold):
    if len(lrs) != len(curves) or len(lrs) == 0:
        raise ValueError("lrs and curves must have the same, non-zero, length")
    best = None
    for i in range(len(lrs)):
        if curves[i][-1] > threshold:
            continue
        if best is None or lrs[i] > best:
            best = lrs[i]
    return best
''', ("lr_nan_trains", "lr_threshold_inclusive")),
]

# Common mistakes written from scratch (see tests/answers/ch01_normalization.py): (answer, code, the catalogued
# mistake it must be diagnosed as or None, what the student did).
COMMON = [
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        if x.shape[0] < 2:
            raise ValueError("need at least 2 samples in training")
        mu = x.mean(dim=0)
        var = x.var(dim=0)
        new_mean = (1 - momentum) * running_mean + momentum * mu.detach()
        new_var = (1 - momentum) * running_var + momentum * var.detach()
    else:
        mu, var = running_mean, running_var
        new_mean, new_var = running_mean.clone(), running_var.clone()
    inv_std = 1.0 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    out = gamma * xhat + beta
    cache = {"xhat": xhat.detach(), "gamma": gamma.detach(), "inv_std": inv_std.detach()}
    return out, new_mean, new_var, cache
''', "forward_unbiased_variance", "torch.var's default (unbiased) to normalize"),
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    n = x.shape[0]
    if training:
        if n == 1:
            raise ValueError("a batch of one sample cannot be normalized in training")
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        rm = running_mean * (1 - momentum) + mean.detach() * momentum
        rv = running_var * (1 - momentum) + var.detach() * n / (n - 1) * momentum
    else:
        mean, var = running_mean, running_var
        rm, rv = running_mean.clone(), running_var.clone()
    std = torch.sqrt(var)
    xhat = (x - mean) / (std + eps)
    out = xhat * gamma + beta
    return out, rm, rv, {"xhat": xhat.detach(), "gamma": gamma.detach(), "inv_std": (1 / (std + eps)).detach()}
''', "forward_eps_outside_sqrt", "eps added to the std, outside the square root"),
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        if len(x) < 2:
            raise ValueError("training needs N >= 2")
        m = x.mean(dim=0)
        v = x.var(dim=0, unbiased=False)
        running_mean = (1 - momentum) * running_mean + momentum * m.detach()
        running_var = (1 - momentum) * running_var + momentum * v.detach()
    else:
        m, v = running_mean, running_var
        running_mean, running_var = running_mean.clone(), running_var.clone()
    inv = (v + eps).rsqrt()
    xhat = (x - m) * inv
    return gamma * xhat + beta, running_mean, running_var, {"xhat": xhat.detach(), "gamma": gamma.detach(),
                                                              "inv_std": inv.detach()}
''', "forward_running_var_biased", "the running variance updated with the biased variance"),
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        if x.size(0) < 2:
            raise ValueError("N < 2")
        mean = x.mean(dim=0)
        var = x.var(dim=0, correction=0)
        unbiased = x.var(dim=0, correction=1)
        new_rm = momentum * running_mean + (1 - momentum) * mean.detach()
        new_rv = momentum * running_var + (1 - momentum) * unbiased.detach()
    else:
        mean, var = running_mean, running_var
        new_rm, new_rv = running_mean.clone(), running_var.clone()
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, new_rm, new_rv, {"xhat": xhat.detach(), "gamma": gamma.detach(),
                                                  "inv_std": inv_std.detach()}
''', "forward_momentum_reversed", "Keras' momentum: the weight of the OLD statistic"),
    ("batchnorm_backward", '''
def batchnorm_backward(grad_out, cache):
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    N = grad_out.shape[0]
    dbeta = grad_out.sum(dim=0)
    dgamma = (grad_out * xhat).sum(dim=0)
    dxhat = grad_out * gamma
    dvar = (dxhat * xhat).sum(dim=0) * (-0.5) * inv_std ** 2
    dx = dxhat * inv_std + dvar * 2 * xhat / (inv_std * N)
    return dx, dgamma, dbeta
''', "backward_no_mean_path", "the path through the mean forgotten"),
    ("batchnorm_backward", '''
def batchnorm_backward(grad_out, cache):
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    n = grad_out.size(0)
    dxhat = grad_out * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
    dgamma = (grad_out * xhat).sum(0)
    dbeta = grad_out.mean(0)
    return dx, dgamma, dbeta
''', "backward_dbeta_mean", "dbeta as the mean over the batch"),
    ("BatchNorm1d", '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.running_mean = torch.zeros(num_features)
        self.running_var = torch.ones(num_features)

    def forward(self, x):
        if self.training:
            if x.shape[0] < 2:
                raise ValueError("batch of one")
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                n = x.shape[0]
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias
''', "module_plain_attributes_reassigned", "running statistics as plain attributes, not buffers"),
    ("BatchNorm1d", '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if not self.training:
            xhat = (x - self.running_mean) / torch.sqrt(self.running_var + self.eps)
            return xhat * self.weight + self.bias
        if x.shape[0] == 1:
            raise ValueError("one sample in training")
        mean = x.mean(dim=0)
        var = x.var(dim=0)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        xhat = (x - mean) / torch.sqrt(var + self.eps)
        return xhat * self.weight + self.bias
''', "module_unbiased_variance", "normalizes with torch.var's default (unbiased)"),
    ("largest_trainable_lr", '''
def largest_trainable_lr(lrs, curves, threshold):
    if len(lrs) != len(curves) or not len(lrs):
        raise ValueError("lengths")
    answer = None
    for lr, curve in zip(lrs, curves):
        if curve[-1] < threshold:
            answer = lr
    return answer
''', "lr_list_order", "the last trained rate in the order given"),
]
