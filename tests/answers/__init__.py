"""Answers the catalogue does not hold, one module per chapter (named like its catalogue module).

REWRITES: (answer, code) correct implementations written differently from the reference: they must
pass every check and get no diagnosis. UNSEEN: (answer, code, allowed) wrong implementations that
are not in the catalogue: they must fail, and their diagnosis must be empty or within ``allowed``.
"""
