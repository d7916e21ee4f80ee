"""Correct rewrites and unseen mistakes of the template chapter."""

REWRITES = [("clip_values", '''
def clip_values(x, low, high):
    if low > high:
        raise ValueError("empty interval")
    return np.clip(np.asarray(x, dtype=float), low, high)
''')]

UNSEEN = [("clip_values", '''
def clip_values(x, low, high):
    if low > high:
        raise ValueError("empty interval")
    return np.minimum(np.asarray(x, dtype=float), high)
''', ())]
