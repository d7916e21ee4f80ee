"""The check framework: hidden tests as data, a probe that runs them in a kernel, judges that decide outside it.

A chapter declares its graded tests with :mod:`checks.spec` (call plans plus judges). The probe
(:mod:`checks.probe`) is the only part that runs in a student's kernel: it calls the student's
functions on the declared inputs and sends back data. The judges (:mod:`checks.judge`,
:mod:`checks.verdict`) compare those records with the reference's in a trusted process, and
:mod:`checks.mistakes` names the catalogued mistake a student made. This package knows no course:
the chapters, the reference and the catalogue are passed in (see :mod:`solutions.checks` for the
course's own entry point).
"""
