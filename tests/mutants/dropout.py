"""Mistakes students make with inverted dropout: the mask, its scale, evaluation mode and the backward pass."""

from tests.mutants import Mutant

CHAPTER = "05-dropout"

def _forward(mask_line, guard="    if not training or p == 0.0:\n        mask = torch.ones_like(x)\n"
                                "    elif p == 1.0:\n        mask = torch.zeros_like(x)\n"):
    """A forward pass whose random branch computes the mask with ``mask_line``."""
    return f'''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
{guard}    else:
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
        {mask_line}
    return x * mask, mask
'''


MUTANTS = [
    # --- dropout_forward ---------------------------------------------------------------------------------
    Mutant(
        name="forward_no_rescale",
        target="dropout_forward",
        mistake="drops units but forgets to scale the survivors by 1/(1-p)",
        match=r"no rescaling",
        code=_forward("mask = (u >= p).to(x.dtype)"),
    ),
    Mutant(
        name="forward_scale_by_p",
        target="dropout_forward",
        mistake="divides the survivors by p instead of 1 - p",
        match=r"scaling by p",
        code=_forward("mask = (u >= p).to(x.dtype) / p"),
    ),
    Mutant(
        name="forward_multiply_keep",
        target="dropout_forward",
        mistake="multiplies the survivors by 1 - p (the test-time rule of the original paper) during training",
        match=r"multiplying by 1 - p",
        code=_forward("mask = (u >= p).to(x.dtype) * (1.0 - p)"),
    ),
    Mutant(
        name="forward_keep_prob_convention",
        target="dropout_forward",
        mistake="treats p as the keep probability, as in the CS231n assignments",
        match=r"keep probability",
        code=_forward("mask = (u < p).to(x.dtype) / p"),
    ),
    Mutant(
        name="forward_drops_at_eval",
        target="dropout_forward",
        mistake="ignores training=False and drops units at evaluation time too",
        match=r"evaluation time",
        code=_forward("mask = (u >= p).to(x.dtype) / (1.0 - p)",
                      guard="    if p == 0.0:\n        mask = torch.ones_like(x)\n"
                            "    elif p == 1.0:\n        mask = torch.zeros_like(x)\n"),
    ),
    Mutant(
        name="forward_p1_division_by_zero",
        target="dropout_forward",
        mistake="no special case for p = 1: divides by 1 - p = 0 and returns NaN",
        match=r"not NaN",
        code=_forward("mask = (u >= p).to(x.dtype) / (1.0 - p)",
                      guard="    if not training or p == 0.0:\n        mask = torch.ones_like(x)\n"),
    ),
    Mutant(
        name="forward_mask_shared_across_batch",
        target="dropout_forward",
        mistake="draws one mask per feature and broadcasts it over the batch (not independent per element)",
        match=r"independently",
        code='''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        row = (torch.rand(x.shape[-1:], generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
        mask = row.expand(x.shape)
    return x * mask, mask
''',
    ),
    Mutant(
        name="forward_float32_mask",
        target="dropout_forward",
        mistake="torch.rand without dtype: a float32 mask whose 1/(1-p) is rounded to single precision",
        match=r"float32",
        code='''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = (torch.rand(x.shape, generator=generator) >= p) / (1.0 - p)
    return x * mask, mask
''',
    ),
    Mutant(
        name="forward_ignores_generator",
        target="dropout_forward",
        mistake="draws from the global random state instead of the generator argument",
        match=r"generator",
        code='''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = (torch.rand(x.shape, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
    return x * mask, mask
''',
    ),
    Mutant(
        name="forward_in_place",
        target="dropout_forward",
        mistake="applies the mask to x in place (x *= mask)",
        match=r"in place",
        code='''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
    x *= mask
    return x, mask
''',
    ),
    Mutant(
        name="forward_returns_keep_pattern",
        target="dropout_forward",
        mistake="scales the output but returns the 0/1 keep pattern as the mask, so out != x * mask",
        match=r"out must equal x \* mask",
        code='''
def dropout_forward(x, p, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(p)
    if not training or p == 0.0:
        keep = torch.ones_like(x)
        return x * keep, keep
    if p == 1.0:
        keep = torch.zeros_like(x)
        return x * keep, keep
    keep = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * keep / (1.0 - p), keep
''',
    ),
    Mutant(
        name="forward_no_p_check",
        target="dropout_forward",
        mistake="accepts any p without raising ValueError",
        match=r"ValueError",
        code='''
def dropout_forward(x, p, training=True, generator=None):
    if not training or p <= 0.0:
        mask = torch.ones_like(x)
    elif p >= 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1.0 - p)
    return x * mask, mask
''',
    ),
    # --- dropout_backward --------------------------------------------------------------------------------
    Mutant(
        name="backward_new_mask",
        target="dropout_backward",
        mistake="draws a new random mask in the backward pass instead of reusing the forward one",
        match=r"reuse the mask",
        code='''
def dropout_backward(grad_out, mask):
    p = 0.5
    fresh = (torch.rand(grad_out.shape, dtype=grad_out.dtype) >= p).to(grad_out.dtype) / (1 - p)
    return grad_out * fresh
''',
    ),
    Mutant(
        name="backward_unscaled",
        target="dropout_backward",
        mistake="passes the gradient through the kept units without the 1/(1-p) scale",
        match=r"forgets the 1/\(1-p\) scale",
        code='''
def dropout_backward(grad_out, mask):
    return grad_out * (mask != 0).to(grad_out.dtype)
''',
    ),
    Mutant(
        name="backward_divides",
        target="dropout_backward",
        mistake="divides by the mask (inverting the forward scale) instead of multiplying",
        match=r"dx = grad_out \* mask",
        code='''
def dropout_backward(grad_out, mask):
    return torch.where(mask != 0, grad_out / mask, torch.zeros_like(grad_out))
''',
    ),
    Mutant(
        name="backward_in_place",
        target="dropout_backward",
        mistake="multiplies grad_out in place",
        match=r"in place",
        code='''
def dropout_backward(grad_out, mask):
    grad_out *= mask
    return grad_out
''',
    ),
    # --- Dropout module ----------------------------------------------------------------------------------
    Mutant(
        name="module_drops_at_eval",
        target="Dropout",
        mistake="ignores self.training: the layer keeps dropping after .eval()",
        match=r"evaluation mode",
        code='''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        return dropout_forward(x, self.p, training=True)[0]
''',
    ),
    Mutant(
        name="module_scales_at_eval",
        target="Dropout",
        mistake="multiplies by 1 - p at evaluation although the training pass already rescaled (double correction)",
        match=r"evaluation mode",
        code='''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        if not self.training:
            return x * (1 - self.p)
        return dropout_forward(x, self.p)[0]
''',
    ),
    Mutant(
        name="module_keep_prob",
        target="Dropout",
        mistake="passes 1 - p to dropout_forward, mixing the keep and drop conventions",
        match=r"drop probability",
        code='''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        return dropout_forward(x, 1 - self.p, training=self.training)[0]
''',
    ),
    Mutant(
        name="module_frozen_mask",
        target="Dropout",
        mistake="draws the mask once and reuses it at every training call",
        match=r"different masks",
        code='''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p
        self.mask = None

    def forward(self, x):
        if not self.training:
            return x
        if self.mask is None:
            _, self.mask = dropout_forward(x, self.p)
        return x * self.mask
''',
    ),
    Mutant(
        name="module_no_grad",
        target="Dropout",
        mistake="runs the forward pass under torch.no_grad(), so no gradient reaches x",
        match=r"gradients must flow",
        code='''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(p)
        self.p = p

    def forward(self, x):
        with torch.no_grad():
            out, _ = dropout_forward(x, self.p, training=self.training)
        return out
''',
    ),
    Mutant(
        name="module_no_p_check",
        target="Dropout",
        mistake="accepts Dropout(1.5) without raising ValueError",
        match=r"ValueError",
        code='''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return dropout_forward(x, self.p, training=self.training)[0]
''',
    ),
]
