"""Known mistakes of chapter 5: the mask, its scale and dtype, evaluation mode, the generator, the backward pass, the
module, channel-wise masks and Monte Carlo dropout (modes, batch norm, the std), and the judgment part's McNemar test
(one-sided, not capped, all examples, unpaired)."""

from checks.mistakes import Mistake

THINNED = ("Dropout: a different thinned network at every step", "dropout-a-different-thinned-network-at-every-step")
INVERTED = ("Inverted dropout: the mask and the $1/(1-p)$ scale", "inverted-dropout-the-mask-and-the-1-1-p-scale")
CONVENTION = ("Drop probability or keep probability?", "drop-probability-or-keep-probability")
WHERE = ("Where to put dropout and how to choose $p$", "where-to-put-dropout-and-how-to-choose-p")
ENSEMBLE = ("The ensemble view, numerically", "the-ensemble-view-numerically")
BATCH_NORM = ("Dropout and batch normalization", "dropout-and-batch-normalization")

RANDOM_MASK = "torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p"
SCALED = "mask = keep.to(x.dtype) / (1.0 - p)"
CHECK_P = ('    if not 0.0 <= p <= 1.0:\n        raise ValueError(f"p must be in [0, 1] (the drop probability), '
           'got {p}")\n')
P1_BRANCH = "    elif p == 1.0:\n        mask = torch.zeros_like(x)\n"

FORWARD = [
    Mistake(
        id="forward_no_rescale", target="dropout_forward", section=INVERTED, match=r"no rescaling",
        explanation="your mask keeps the survivors at 1: without the 1/(1-p) scale the expected output is (1-p) x; "
                    "inverted dropout divides the kept entries by 1 - p so that E[out] = x",
        change=((SCALED, "mask = keep.to(x.dtype)"),),
    ),
    Mistake(
        id="forward_scale_by_p", target="dropout_forward", section=INVERTED, match=r"scaling by p",
        explanation="your survivors are divided by p; they are divided by 1 - p, the KEEP probability, so that "
                    "E[out] = x",
        change=((SCALED, "mask = keep.to(x.dtype) / p"),),
    ),
    Mistake(
        id="forward_multiply_keep", target="dropout_forward", section=INVERTED, match=r"multiplying by 1 - p",
        explanation="your survivors are multiplied by 1 - p, the test-time rule of the original paper, during "
                    "training; inverted dropout divides them by 1 - p in training and leaves evaluation alone",
        change=((SCALED, "mask = keep.to(x.dtype) * (1.0 - p)"),),
    ),
    Mistake(
        id="forward_keep_prob_convention", target="dropout_forward", section=CONVENTION, match=r"keep probability",
        explanation="your outputs keep each entry with probability p and scale by 1/p: p was read as the KEEP "
                    "probability (CS231n's convention); in torch and in this course p is the DROP probability",
        change=((RANDOM_MASK, "torch.rand(x.shape, generator=generator, dtype=x.dtype) < p"),
                (SCALED, "mask = keep.to(x.dtype) / p")),
    ),
    Mistake(
        id="forward_drops_at_eval", target="dropout_forward", section=INVERTED, match=r"evaluation time",
        explanation="your function drops entries with training=False too; at evaluation dropout is the identity "
                    "(mask of ones)",
        change=(("if not training or p == 0.0:", "if p == 0.0:"),),
    ),
    Mistake(
        id="forward_p1_division_by_zero", target="dropout_forward", section=INVERTED, match=r"not NaN",
        explanation="for p = 1 your mask is 0 / 0 = NaN; p = 1 drops everything, so treat it as a special case: a mask "
                    "of zeros",
        change=((P1_BRANCH, ""),),
    ),
    Mistake(
        id="forward_mask_shared_across_batch", target="dropout_forward", section=THINNED, match=r"independent",
        explanation="your mask draws one number per feature (last dimension) and shares it across the batch; every "
                    "entry of x is dropped independently (one random number per entry, torch.rand(x.shape))",
        change=((RANDOM_MASK, "(torch.rand(x.shape[-1:], generator=generator, dtype=x.dtype) >= p).expand(x.shape)"),),
    ),
    Mistake(
        id="forward_float32_mask", target="dropout_forward", section=INVERTED, match=r"float32",
        explanation="your mask is float32 for a float64 x: torch.rand (and a bool divided by a number) default to "
                    "float32; pass dtype=x.dtype so the mask, and 1/(1-p), keep the precision of x",
        change=((RANDOM_MASK, "torch.rand(x.shape, generator=generator) >= p"), (SCALED, "mask = keep / (1.0 - p)")),
    ),
    Mistake(
        id="forward_ignores_generator", target="dropout_forward", section=INVERTED, match=r"generator",
        explanation="your masks come from torch's global random state, not from the generator argument: the same "
                    "seed does not give the same mask; pass generator=generator to torch.rand",
        change=((RANDOM_MASK, "torch.rand(x.shape, dtype=x.dtype) >= p"),),
    ),
    Mistake(
        id="forward_in_place", target="dropout_forward", section=INVERTED, match=r"in place",
        explanation="your function multiplies the caller's x in place (x *= mask) and returns it; return x * mask, a "
                    "new tensor, and leave x alone",
        change=(("    return x * mask, mask", "    x *= mask\n    return x, mask"),),
    ),
    Mistake(
        id="forward_returns_keep_pattern", target="dropout_forward", section=INVERTED, match=r"x \* mask",
        explanation="your out is scaled but the mask you return is the 0/1 keep pattern, so out != x * mask; return "
                    "the mask you applied, with its 1/(1-p) scale (the backward pass multiplies by it)",
        change=((SCALED, "mask = keep.to(x.dtype)"), ("    return x * mask, mask", "    return x * mask / (1.0 - p) "
                                                                                   "if 0.0 < p < 1.0 and training "
                                                                                   "else x * mask, mask")),
    ),
    Mistake(
        id="forward_no_p_check", target="dropout_forward", section=CONVENTION, match=r"ValueError",
        explanation="your function accepts p outside [0, 1]; a drop probability must be checked first (ValueError)",
        change=((CHECK_P, ""),),
    ),
    Mistake(
        id="forward_eval_float32_mask", target="dropout_forward", section=INVERTED, match=r"dtype",
        explanation="at evaluation your mask of ones is float32 (torch.ones(x.shape)) while x is float64; the mask "
                    "has the dtype of x in every case (torch.ones_like(x))",
        change=(("mask = torch.ones_like(x)", "mask = torch.ones(x.shape)"),),
    ),
    Mistake(
        id="forward_detaches", target="dropout_forward", section=INVERTED, match=r"gradients must flow",
        explanation="your out is not connected to x in the autograd graph: no gradient reaches x (was it computed "
                    "from x.detach(), under torch.no_grad() or through numpy?); out = x * mask must stay in the graph",
        change=(("    return x * mask, mask", "    return x.detach() * mask, mask"),),
    ),
]

BACKWARD = [
    Mistake(
        id="backward_new_mask", target="dropout_backward", section=INVERTED,
        match=r"the very mask of the forward pass \(not a new random one\)",
        explanation="your gradient uses a new random mask; the gradient of x * mask goes through the very mask of the "
                    "forward pass: dx = grad_out * mask",
        change=(("return grad_out * mask", "fresh = (torch.rand(grad_out.shape, dtype=grad_out.dtype) >= 0.5)"
                                           ".to(grad_out.dtype) / 0.5\n    return grad_out * fresh"),),
    ),
    Mistake(
        id="backward_unscaled", target="dropout_backward", section=INVERTED,
        match=r"grad_out \* \(mask != 0\) leaves the scale out",
        explanation="your gradient passes through the kept units unscaled (grad_out * (mask != 0)); the forward pass "
                    "multiplied by 1/(1-p), so the gradient is scaled by it too: dx = grad_out * mask",
        change=(("return grad_out * mask", "return grad_out * (mask != 0).to(grad_out.dtype)"),),
    ),
    Mistake(
        id="backward_divides", target="dropout_backward", section=INVERTED, match=r"dx = grad_out \* mask",
        explanation="your gradient divides by the mask; the derivative of x * mask with respect to x is the mask, so "
                    "dx = grad_out * mask",
        change=(("return grad_out * mask",
                 "return torch.where(mask != 0, grad_out / mask, torch.zeros_like(grad_out))"),),
    ),
    Mistake(
        id="backward_in_place", target="dropout_backward", section=INVERTED, match=r"in place",
        explanation="your function multiplies grad_out in place and returns it; the caller's gradient must stay "
                    "unchanged: return grad_out * mask, a new tensor",
        change=(("return grad_out * mask", "grad_out *= mask\n    return grad_out"),),
    ),
]

MODULE_KEEP = ("keep = torch.rand(x.shape, dtype=x.dtype) >= self.p\n"
               "        return x * keep.to(x.dtype) / (1.0 - self.p)")

MODULE = [
    Mistake(
        id="module_drops_at_eval", target="Dropout", section=INVERTED, match=r"evaluation mode",
        explanation="your layer keeps dropping after .eval(); forward must read self.training and return x unchanged "
                    "in evaluation mode",
        change=(("if not self.training or self.p == 0.0:", "if self.p == 0.0:"),),
    ),
    Mistake(
        id="module_scales_at_eval", target="Dropout", section=INVERTED, match=r"evaluation mode",
        explanation="your layer multiplies by 1 - p in evaluation mode although training already scaled by 1/(1-p) "
                    "(a double correction); inverted dropout is the identity at evaluation",
        change=(("        if not self.training or self.p == 0.0:\n            return x\n",
                 "        if not self.training:\n            return x * (1.0 - self.p)\n"
                 "        if self.p == 0.0:\n            return x\n"),),
    ),
    Mistake(
        id="module_keep_prob", target="Dropout", section=CONVENTION, match=r"DROP probability",
        explanation="your layer keeps each entry with probability p: p was read as the keep probability; "
                    "nn.Dropout(p) drops with probability p and scales the survivors by 1/(1-p)",
        change=((">= self.p", "< self.p"), ("/ (1.0 - self.p)", "/ self.p")),
    ),
    Mistake(
        id="module_frozen_mask", target="Dropout", section=THINNED, match=r"different masks",
        explanation="your layer draws its mask once and reuses it at every training call; dropout samples a new "
                    "thinned network at every step, so every training call draws a fresh mask",
        change=(("        self.p = p\n", "        self.p = p\n        self.mask = None\n"),
                (MODULE_KEEP, "if self.mask is None:\n            self.mask = (torch.rand(x.shape, dtype=x.dtype) >= "
                              "self.p).to(x.dtype) / (1.0 - self.p)\n        return x * self.mask")),
    ),
    Mistake(
        id="module_no_grad", target="Dropout", section=INVERTED, match=r"gradients must flow",
        explanation="your forward runs under torch.no_grad(), so no gradient reaches x or the layers before; the "
                    "layer must stay in the autograd graph",
        change=(("        return x * keep.to(x.dtype) / (1.0 - self.p)",
                 "        with torch.no_grad():\n            return x * keep.to(x.dtype) / (1.0 - self.p)"),),
    ),
    Mistake(
        id="module_no_p_check", target="Dropout", section=CONVENTION, match=r"ValueError",
        explanation="your layer accepts Dropout(1.5); as nn.Dropout, the constructor raises ValueError outside [0, 1]",
        change=(('        if not 0.0 <= p <= 1.0:\n            raise ValueError(f"p must be in [0, 1] (the drop '
                 'probability), got {p}")\n', ""),),
    ),
    Mistake(
        id="module_p1_nan", target="Dropout", section=INVERTED, match=r"not NaN",
        explanation="your layer returns NaN for p = 1 (0 / 0); p = 1 drops every unit: return zeros",
        change=(("        if self.p == 1.0:\n            return x * torch.zeros_like(x)\n", ""),),
    ),
]

D2_RANDOM = "keep = torch.rand(shape, generator=generator, dtype=x.dtype) >= p"

DROPOUT2D = [
    Mistake(
        id="d2_elementwise", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"\(sample, channel\)",
        explanation="your mask drops single entries (one draw per entry, the mask of dropout_forward); channel-wise "
                    "dropout draws one number per (sample, channel) and keeps or drops the whole feature map",
        change=((D2_RANDOM, "keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p"),),
    ),
    Mistake(
        id="d2_shared_over_batch", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"shared by all samples",
        explanation="your mask draws one number per channel and shares it across the batch; every sample gets its own "
                    "draw per channel (mask of shape (N, C, 1, 1))",
        change=((D2_RANDOM, "keep = torch.rand((1,) + shape[1:], generator=generator, dtype=x.dtype) >= p"),),
    ),
    Mistake(
        id="d2_per_sample", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"drops whole samples",
        explanation="your mask draws one number per sample and drops whole samples; channel-wise dropout draws one "
                    "number per (sample, channel)",
        change=((D2_RANDOM, "keep = torch.rand(shape[:1] + (1,) * (x.dim() - 1), generator=generator, dtype=x.dtype) "
                            ">= p"),),
    ),
    Mistake(
        id="d2_no_rescale", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"no rescaling",
        explanation="your kept feature maps are not scaled: divide them by 1 - p, as for element-wise dropout",
        change=((SCALED, "mask = keep.to(x.dtype)"),),
    ),
    Mistake(
        id="d2_keep_prob", target="dropout2d_forward", section=CONVENTION, match=r"keep probability",
        explanation="your feature maps are kept with probability p: p was read as the keep probability; it is the DROP "
                    "probability, as in nn.Dropout2d",
        change=((">= p", "< p"), (SCALED, "mask = keep.to(x.dtype) / p")),
    ),
    Mistake(
        id="d2_drops_at_eval", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"evaluation time",
        explanation="your function drops feature maps with training=False too; at evaluation it is the identity",
        change=(("if not training or p == 0.0:", "if p == 0.0:"),),
    ),
    Mistake(
        id="d2_p1_nan", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"not NaN",
        explanation="for p = 1 your mask is 0 / 0 = NaN; p = 1 drops every feature map: a mask of zeros",
        change=(("    elif p == 1.0:\n        mask = torch.zeros(shape, dtype=x.dtype)\n", ""),),
    ),
    Mistake(
        id="d2_fixed_4d_mask", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"\(N, C, 1\)",
        explanation="your mask always has shape (N, C, 1, 1); a 3-D x (N, C, L) needs a mask of shape (N, C, 1): "
                    "append one 1 per dimension after the channels",
        change=(("shape = tuple(x.shape[:2]) + (1,) * (x.dim() - 2)", "shape = tuple(x.shape[:2]) + (1, 1)"),),
    ),
    Mistake(
        id="d2_no_dim_check", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"ValueError",
        explanation="your function accepts a 2-D x; channel-wise dropout needs feature maps, (N, C, H, W) or "
                    "(N, C, L): raise ValueError otherwise",
        change=(('    if x.dim() not in (3, 4):\n        raise ValueError(f"x must have shape (N, C, H, W) or '
                 '(N, C, L), got shape {tuple(x.shape)}")\n', ""),),
    ),
    Mistake(
        id="d2_ignores_generator", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"generator",
        explanation="your masks come from torch's global random state, not from the generator argument",
        change=(("generator=generator, ", ""),),
    ),
    Mistake(
        id="d2_eval_float32_mask", target="dropout2d_forward",
        section=("Channel-wise dropout (Dropout2d)", "channel-wise-dropout-dropout2d"),
        match=r"dtype",
        explanation="at evaluation your mask of ones is float32 (torch.ones(shape) without dtype) while x is float64; "
                    "the mask has the dtype of x in every case",
        change=(("mask = torch.ones(shape, dtype=x.dtype)", "mask = torch.ones(shape)"),),
    ),
]

ENABLE_DROPOUT = ("    for module in model.modules():\n"
                  "        if isinstance(module, torch.nn.modules.dropout._DropoutNd):\n"
                  "            module.train()\n")
RESTORE = "        for module, mode in modes.items():\n            module.training = mode\n"

MC = [
    Mistake(
        id="mc_dropout_off", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"not active",
        explanation="your passes run the model in evaluation mode, dropout included: every pass gives the same output "
                    "and the std is 0; Monte Carlo dropout puts the dropout layers in training mode",
        change=((ENABLE_DROPOUT, ""),),
    ),
    Mistake(
        id="mc_model_train", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"BatchNorm",
        explanation="your passes run the whole model in training mode (model.train()): batch norm normalizes with the "
                    "statistics of the batch and updates its running statistics; only the dropout layers go to "
                    "training mode, every other layer stays in evaluation mode",
        change=(("    model.eval()\n" + ENABLE_DROPOUT, "    model.train()\n"),),
    ),
    Mistake(
        id="mc_std_unbiased", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"correction=0",
        explanation="your std divides by n_samples - 1 (torch.std's default); the course's std divides by n_samples "
                    "(correction=0)",
        change=(("samples.std(dim=0, correction=0)", "samples.std(dim=0)"),),
    ),
    Mistake(
        id="mc_variance", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"variance",
        explanation="you return the variance of the samples; the second output is the standard deviation",
        change=(("samples.std(dim=0, correction=0)", "samples.var(dim=0, correction=0)"),),
    ),
    Mistake(
        id="mc_keeps_graph", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"no_grad",
        explanation="your passes build an autograd graph (mean.requires_grad is True): prediction needs none; run "
                    "them under torch.no_grad()",
        change=(("        with torch.no_grad():\n            samples = ",
                 "        if True:\n            samples = "),),
    ),
    Mistake(
        id="mc_modes_not_restored", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"mode it had",
        explanation="your function leaves the model with its dropout layers in training mode; afterwards every "
                    "submodule must be back in the mode it had before the call",
        change=((RESTORE, "        pass\n"),),
    ),
    Mistake(
        id="mc_restores_top_mode_only", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"mode it had",
        explanation="your function restores the modes with model.train(was_training), which sets every submodule "
                    "alike; a model whose layers were in different modes (here batch norm in eval inside a model in "
                    "training mode) must get each module's own mode back",
        change=((RESTORE, "        model.train(modes[model])\n"),),
    ),
    Mistake(
        id="mc_eval_at_end", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"mode it had",
        explanation="your function ends with model.eval(): a model that was in training mode comes back in evaluation "
                    "mode; restore the mode each module had",
        change=((RESTORE, "        model.eval()\n"),),
    ),
    Mistake(
        id="mc_one_pass_repeated", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"reused",
        explanation="your samples are one forward pass repeated n_samples times: the std is 0; call model(x) "
                    "n_samples times, each with new masks",
        change=(("torch.stack([model(x) for _ in range(n_samples)])", "torch.stack([model(x)] * n_samples)"),),
    ),
    Mistake(
        id="mc_no_sample_check", target="mc_dropout_predict",
        section=("Monte Carlo dropout: uncertainty at prediction time",
                 "monte-carlo-dropout-uncertainty-at-prediction-time"),
        match=r"ValueError",
        explanation="n_samples = 0 is accepted (and fails later inside torch.stack); raise ValueError for "
                    "n_samples < 1",
        change=(('    if n_samples < 1:\n        raise ValueError(f"n_samples must be at least 1, got {n_samples}")\n',
                 ""),),
    ),
]

PAIRED = ("Is the gain more than noise?", "is-the-gain-more-than-noise")
P_RETURN = "return only_a, only_b, min(1.0, 2 * tail)"

MCNEMAR = [
    Mistake(
        id="mcnemar_one_sided", target="mcnemar", section=PAIRED, match=r"one-sided",
        explanation="your p-value is the one-sided tail P(Binomial(n, 1/2) <= min(only_a, only_b)); the question "
                    "'is one network better than the other?' is two-sided: double the tail (and cap at 1)",
        change=((P_RETURN, "return only_a, only_b, tail"),),
    ),
    Mistake(
        id="mcnemar_not_capped", target="mcnemar", section=PAIRED, match=r"cannot exceed 1",
        explanation="your p-value is twice the tail without the cap: when only_a == only_b the doubled tail exceeds "
                    "1 (the middle value is counted in both tails), and a probability cannot; take min(1, 2 * tail)",
        change=((P_RETURN, "return only_a, only_b, 2 * tail"),),
    ),
    Mistake(
        id="mcnemar_all_examples", target="mcnemar", section=PAIRED, match=r"ALL examples",
        explanation="your binomial test runs over all the examples; the examples both networks get right or both "
                    "get wrong say nothing about which is better: McNemar's n is only_a + only_b",
        change=(("n = only_a + only_b", "n = correct_a.numel()"),),
    ),
    Mistake(
        id="mcnemar_unpaired", target="mcnemar", section=PAIRED, match=r"unpaired",
        explanation="your p-value is the unpaired two-proportion z-test of the two accuracies; both networks were "
                    "scored on the SAME examples, so most of the noise cancels in the pairs: McNemar's test counts "
                    "the discordant examples only",
        code='''
def mcnemar(correct_a, correct_b):
    if correct_a.shape != correct_b.shape:
        raise ValueError("correct_a and correct_b must score the same examples")
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((correct_b & ~correct_a).sum())
    n = correct_a.numel()
    acc_a, acc_b = correct_a.double().mean().item(), correct_b.double().mean().item()
    pooled = (acc_a + acc_b) / 2
    se = math.sqrt(2 * pooled * (1 - pooled) / n)
    z = abs(acc_a - acc_b) / se if se > 0 else 0.0
    return only_a, only_b, math.erfc(z / math.sqrt(2))
''',
    ),
]

MISTAKES = FORWARD + BACKWARD + MODULE + DROPOUT2D + MC + MCNEMAR
