"""Reference solutions for the course exercises, one module per chapter.

Hidden tests in the exercise notebooks compare each student implementation with
the function of the same name here; ``tests/`` proves these references equal to
numpy, scikit-learn and torch. The book never imports this package.
"""
