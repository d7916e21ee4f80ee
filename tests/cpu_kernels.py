"""Print the numpy SIMD features to disable so that numpy runs its baseline kernels on this machine.

``make test`` runs the suite (nbval included) with ``NPY_DISABLE_CPU_FEATURES`` set to this list and
``ATEN_CPU_CAPABILITY=default``, while the book is built with the machine's own kernels: every run checks the
book's asserted claims and the oracle tolerances on two kernel sets. Only features this machine has are
listed (numpy refuses to disable one it does not have), so the line works on any x86-64 or ARM machine.
"""

from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

print(" ".join(feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature)))
