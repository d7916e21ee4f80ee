"""Torch data for a chapter's cases and judges: torch imported lazily, seeded tensors, tensors as numpy."""

import numpy as np


def lazy_torch():
    """The torch module, imported on first use: declaring a chapter must not cost a torch import to the others."""
    import torch

    return torch


def seeded_tensor(seed, shape, shift=0.0, scale=1.0, dtype="float64", uniform=False):
    """A seeded tensor (data travelling in the plan): normal (or uniform) draws, scaled and shifted."""
    torch = lazy_torch()
    g = torch.Generator().manual_seed(seed)
    draw = torch.rand if uniform else torch.randn
    return (draw(shape, generator=g, dtype=torch.float64) * scale + shift).to(getattr(torch, dtype))


def to_numpy(tensor):
    """A float64 numpy copy of ``tensor`` (None stays None)."""
    return None if tensor is None else tensor.detach().numpy().astype(np.float64)
