"""Catalogues of known mistakes, one module per chapter (see :mod:`solutions.checks.mistakes`)."""
