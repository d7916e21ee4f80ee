"""Known mistakes of the template chapter."""

from checks.mistakes import Mistake

CLIPPING = ("Clipping", "clipping")

MISTAKES = [
    Mistake(id="clip_bounds_swapped", target="clip_values", section=CLIPPING, match=r"max with low first",
            explanation="your outputs equal min with low and max with high: the bounds are swapped",
            change=(("np.minimum(np.maximum(x, low), high)", "np.maximum(np.minimum(x, low), high)"),)),
    Mistake(id="clip_no_check", target="clip_values", section=CLIPPING, match=r"ValueError",
            explanation="low > high was accepted; it must raise ValueError",
            change=(("    if low > high:\n", "    if False:\n"),)),
]
