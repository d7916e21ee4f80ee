"""Mistakes students make writing batch normalization: forward, backward and the module."""

from tests.mutants import Mutant

CHAPTER = "06-batch-norm"

# The correct training/eval branches, shared by the forward mutants that change one line of them.
_FORWARD = '''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    if training:
        n = x.shape[0]
        mean = x.mean(dim=0)
        var = x.var(dim=0, correction=0)
        inv_std = {inv_std}
        xhat = (x - mean) * inv_std
        new_running_mean = {new_mean}
        new_running_var = {new_var}
    else:
        inv_std = 1.0 / torch.sqrt(running_var + eps)
        xhat = (x - running_mean) * inv_std
        new_running_mean, new_running_var = running_mean.clone(), running_var.clone()
    out = {out}
    return out, new_running_mean, new_running_var, (xhat.detach(), gamma.detach(), inv_std.detach())
'''
_RIGHT = {
    "inv_std": "1.0 / torch.sqrt(var + eps)",
    "new_mean": "(1 - momentum) * running_mean + momentum * mean.detach()",
    "new_var": "(1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)",
    "out": "gamma * xhat + beta",
}


def _forward(**change):
    return _FORWARD.format(**{**_RIGHT, **change})


# The correct backward up to dxhat; each backward mutant changes the last lines.
_BACKWARD = '''
def batchnorm_backward(grad_out, cache):
    xhat, gamma, inv_std = cache
    n = grad_out.shape[0]
    dbeta = {dbeta}
    dgamma = {dgamma}
    dxhat = {dxhat}
    dx = {dx}
    return dx, dgamma, dbeta
'''
_BACKWARD_RIGHT = {
    "dbeta": "grad_out.sum(dim=0)",
    "dgamma": "(grad_out * xhat).sum(dim=0)",
    "dxhat": "grad_out * gamma",
    "dx": "inv_std / n * (n * dxhat - dxhat.sum(dim=0) - xhat * (dxhat * xhat).sum(dim=0))",
}


def _backward(**change):
    return _BACKWARD.format(**{**_BACKWARD_RIGHT, **change})


_MODULE = '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
{init}

    def forward(self, x):
{forward}
'''
_MODULE_INIT = '''\
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))'''
_MODULE_FORWARD = '''\
        out, new_mean, new_var, _ = batchnorm_forward(x, self.weight, self.bias, self.running_mean,
                                                      self.running_var, training=self.training,
                                                      momentum=self.momentum, eps=self.eps)
        if self.training:
            with torch.no_grad():
                self.running_mean.copy_(new_mean)
                self.running_var.copy_(new_var)
        return out'''


def _module(init=_MODULE_INIT, forward=_MODULE_FORWARD):
    return _MODULE.format(init=init, forward=forward)


MUTANTS = [
    # ---------------------------------------------------------------- forward
    Mutant(
        name="forward_unbiased_variance",
        target="batchnorm_forward",
        mistake="normalizes with the unbiased batch variance (torch.var's default, divide by N - 1)",
        match=r"BIASED batch variance",
        code=_forward().replace("x.var(dim=0, correction=0)", "x.var(dim=0)").replace(
            "var.detach() * n / (n - 1)", "var.detach()"
        ),
    ),
    Mutant(
        name="forward_eps_outside_sqrt",
        target="batchnorm_forward",
        mistake="adds eps outside the square root: (x - mean) / (sqrt(var) + eps)",
        match=r"eps goes INSIDE the square root",
        code=_forward(inv_std="1.0 / (torch.sqrt(var) + eps)"),
    ),
    Mutant(
        name="forward_wrong_axis",
        target="batchnorm_forward",
        mistake="takes the statistics of each sample (dim=1, layer norm) instead of each feature over the batch",
        match=r"over the batch, dim=0",
        code=_forward()
        .replace("x.mean(dim=0)", "x.mean(dim=1, keepdim=True)")
        .replace("x.var(dim=0, correction=0)", "x.var(dim=1, correction=0, keepdim=True)")
        .replace("mean.detach()", "mean.detach().mean()")
        .replace("var.detach() * n / (n - 1)", "var.detach().mean() * n / (n - 1)"),
    ),
    Mutant(
        name="forward_no_scale_shift",
        target="batchnorm_forward",
        mistake="returns xhat, forgetting the learned scale gamma and shift beta",
        match=r"gamma \* xhat \+ beta",
        code=_forward(out="xhat"),
    ),
    Mutant(
        name="forward_momentum_reversed",
        target="batchnorm_forward",
        mistake="Keras/CS231n momentum: running = momentum * running + (1 - momentum) * batch",
        match=r"reversed momentum",
        code=_forward(
            new_mean="momentum * running_mean + (1 - momentum) * mean.detach()",
            new_var="momentum * running_var + (1 - momentum) * var.detach() * n / (n - 1)",
        ),
    ),
    Mutant(
        name="forward_running_stats_not_updated",
        target="batchnorm_forward",
        mistake="returns the running statistics unchanged in training",
        match=r"running statistics not updated",
        code=_forward(new_mean="running_mean.clone()", new_var="running_var.clone()"),
    ),
    Mutant(
        name="forward_running_var_biased",
        target="batchnorm_forward",
        mistake="updates running_var with the biased batch variance (no N / (N - 1))",
        match=r"UNBIASED batch variance",
        code=_forward(new_var="(1 - momentum) * running_var + momentum * var.detach()"),
    ),
    Mutant(
        name="forward_batch_stats_at_eval",
        target="batchnorm_forward",
        mistake="ignores training=False and normalizes with the batch statistics at evaluation",
        match=r"training=False normalize with running_mean and running_var",
        code='''
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    n = x.shape[0]
    mean = x.mean(dim=0)
    var = x.var(dim=0, correction=0)
    inv_std = 1.0 / torch.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    if training:
        new_running_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        new_running_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
    else:
        new_running_mean, new_running_var = running_mean.clone(), running_var.clone()
    out = gamma * xhat + beta
    return out, new_running_mean, new_running_var, (xhat.detach(), gamma.detach(), inv_std.detach())
''',
    ),
    Mutant(
        name="forward_updates_running_stats_at_eval",
        target="batchnorm_forward",
        mistake="normalizes with the running statistics at evaluation but still moves them towards the batch",
        match=r"evaluation must not update the running statistics",
        code=_forward().replace(
            "new_running_mean, new_running_var = running_mean.clone(), running_var.clone()",
            "n = x.shape[0]\n"
            "        new_running_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=0)\n"
            "        new_running_var = (1 - momentum) * running_var + momentum * x.var(dim=0)",
        ),
    ),
    Mutant(
        name="forward_updates_running_stats_in_place",
        target="batchnorm_forward",
        mistake="updates the caller's running statistics in place (mul_/add_), as the CS231n bn_param dict does",
        match=r"modified its input running_mean in place",
        code=_forward(
            new_mean="running_mean.mul_(1 - momentum).add_(momentum * mean.detach())",
            new_var="running_var.mul_(1 - momentum).add_(momentum * var.detach() * n / (n - 1))",
        ),
    ),
    # ---------------------------------------------------------------- backward
    Mutant(
        name="backward_no_mean_path",
        target="batchnorm_backward",
        mistake="backpropagates through xhat and the variance but not through the batch mean",
        match=r"path through the batch mean is missing",
        code=_backward(dx="inv_std * (dxhat - xhat * (dxhat * xhat).mean(dim=0))"),
    ),
    Mutant(
        name="backward_no_variance_path",
        target="batchnorm_backward",
        mistake="treats the batch variance as a constant (keeps only the paths through xhat and the mean)",
        match=r"path through the batch variance is missing",
        code=_backward(dx="inv_std * (dxhat - dxhat.mean(dim=0))"),
    ),
    Mutant(
        name="backward_statistics_constant",
        target="batchnorm_backward",
        mistake="treats the batch mean and variance as constants, as at evaluation: dx = grad_out * gamma / std",
        match=r"path through the batch mean is missing",
        code=_backward(dx="dxhat * inv_std"),
    ),
    Mutant(
        name="backward_dgamma_with_x",
        target="batchnorm_backward",
        mistake="dgamma = sum(grad_out * (x - mean)): the centred input instead of the normalized one",
        match=r"NORMALIZED input",
        code=_backward(dgamma="(grad_out * (xhat / inv_std)).sum(dim=0)"),
    ),
    Mutant(
        name="backward_dbeta_mean",
        target="batchnorm_backward",
        mistake="averages grad_out over the batch for dbeta instead of summing",
        match=r"dbeta = sum over the batch",
        code=_backward(dbeta="grad_out.mean(dim=0)"),
    ),
    Mutant(
        name="backward_forgets_gamma",
        target="batchnorm_backward",
        mistake="backpropagates grad_out into xhat without multiplying by gamma",
        match=r"dxhat = grad_out \* gamma",
        code=_backward(dxhat="grad_out"),
    ),
    # ---------------------------------------------------------------- module
    Mutant(
        name="module_plain_attribute_buffers",
        target="BatchNorm1d",
        mistake="stores running_mean and running_var as plain tensor attributes instead of registered buffers",
        match=r"register_buffer",
        code=_module(
            init=_MODULE_INIT.replace(
                'self.register_buffer("running_mean", torch.zeros(num_features))',
                "self.running_mean = torch.zeros(num_features)",
            ).replace(
                'self.register_buffer("running_var", torch.ones(num_features))',
                "self.running_var = torch.ones(num_features)",
            )
        ),
    ),
    Mutant(
        name="module_plain_tensor_parameters",
        target="BatchNorm1d",
        mistake="makes weight and bias plain tensors with requires_grad instead of torch.nn.Parameter",
        match=r"torch\.nn\.Parameter",
        code=_module(
            init=_MODULE_INIT.replace(
                "torch.nn.Parameter(torch.ones(num_features))", "torch.ones(num_features, requires_grad=True)"
            ).replace(
                "torch.nn.Parameter(torch.zeros(num_features))", "torch.zeros(num_features, requires_grad=True)"
            )
        ),
    ),
    Mutant(
        name="module_ignores_eval",
        target="BatchNorm1d",
        mistake="always calls the forward with training=True, so .eval() changes nothing",
        match=r"check self\.training",
        code=_module(forward=_MODULE_FORWARD.replace("training=self.training", "training=True")
                     .replace("if self.training:", "if True:")),
    ),
    Mutant(
        name="module_buffers_never_updated",
        target="BatchNorm1d",
        mistake="computes the new running statistics but never stores them in the buffers",
        match=r"in training update the buffers",
        code=_module(forward=_MODULE_FORWARD.replace(
            "            with torch.no_grad():\n"
            "                self.running_mean.copy_(new_mean)\n"
            "                self.running_var.copy_(new_var)",
            "            running_mean, running_var = new_mean, new_var",
        )),
    ),
    Mutant(
        name="module_buffers_keep_graph",
        target="BatchNorm1d",
        mistake="updates the running statistics with autograd history (no detach, no torch.no_grad)",
        match=r"carries autograd history",
        code=_module(forward='''\
        if self.training:
            mean, var, n = x.mean(dim=0), x.var(dim=0, correction=0), x.shape[0]
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias'''),
    ),
    Mutant(
        name="module_zero_init_weight",
        target="BatchNorm1d",
        mistake="initializes gamma (weight) to zeros like a bias, so every output starts at beta",
        match=r"weight must start at",
        code=_module(init=_MODULE_INIT.replace("torch.ones(num_features))", "torch.zeros(num_features))", 1)),
    ),
]
