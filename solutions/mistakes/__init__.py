"""Catalogues of known mistakes, one module per chapter (see :mod:`checks.mistakes`)."""
