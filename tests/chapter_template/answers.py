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

# Common mistakes written from scratch: (answer, code, the catalogued mistake it must be diagnosed as or None,
# what the student did).
COMMON = [("clip_values", '''
def clip_values(x, low, high):
    x = np.asarray(x, dtype=float)
    return np.clip(x, low, high)
''', "clip_no_check", "accepts low > high instead of raising ValueError")]
