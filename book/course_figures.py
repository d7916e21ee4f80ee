"""Figures of the book's notebooks as SVG with their text kept as text (``book/matplotlibrc`` loads this).

The Korean edition translates a figure's labels at build time, from the catalogs, without running the notebook
again: that needs figures whose titles, axis labels, legends and annotations are text in the output, not pixels
(PNG) or glyph outlines (``svg.fonttype: path``). ``book/matplotlibrc`` sets ``svg.fonttype: none`` and names
:func:`show_as_svg` in ``figure.hooks``, which matplotlib calls for every new figure: the first call switches the
notebook's inline display from PNG to SVG. Notebooks stay unchanged, and Jupyter, nbval and the book build
(their kernels all run in ``book/``) show the same figures.
"""


def show_as_svg(figure):
    """Make the inline backend display figures as SVG (once per kernel; ``figure`` is not changed)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # not in IPython: a script saves its figures the way it chooses
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_course_figures_as_svg", False):
        return
    # no date in the file: the same code gives the same output (svg.hashsalt fixes the element ids)
    set_matplotlib_formats("svg", metadata={"Date": None})
    shell._course_figures_as_svg = True
