"""solutions.norms equals numpy.linalg.norm on vectors and matrices."""

import numpy as np
import pytest

from solutions.norms import lp_norm, matrix_norm

# Both sides sum n rounded terms (|x|^p, or |x|^p / max^p here) and take a root:
# a few ulp per term, well under 1e-12 relative for n <= 1000.
RTOL = 1e-12

ORDERS_P = [1, 1.5, 2, 3, 4.5, 5, 10, 50, np.inf]
SIZES = [1, 2, 7, 100, 1000]


@pytest.mark.parametrize("p", ORDERS_P)
@pytest.mark.parametrize("size", SIZES)
def test_lp_norm_equals_numpy(p, size):
    rng = np.random.default_rng(size)
    for _ in range(5):
        # Mixed signs and a non-zero mean: a missing absolute value changes the number.
        x = rng.normal(-0.5, 3.0, size)
        np.testing.assert_allclose(lp_norm(x, p), np.linalg.norm(x, ord=p), rtol=RTOL)


def test_lp_norm_classic_values():
    x = np.array([1.0, 10.0, 1.0, 1.0, 1.0])
    # (10^5 + 4)^(1/5) = 10 (1 + 4e-5)^(1/5) = 10.0000799987..., by the binomial series.
    assert lp_norm(x, 5) == pytest.approx(10.00007999872, abs=1e-10)
    assert lp_norm(x, np.inf) == 10.0
    assert lp_norm(x, 1) == 14.0
    assert lp_norm([3.0, -4.0], 2) == pytest.approx(5.0, rel=1e-15)


def test_lp_norm_uses_absolute_values():
    x = np.array([-7.0, 3.0, -1.0])
    assert lp_norm(x, np.inf) == 7.0  # max(x) would say 3
    assert lp_norm(x, 1) == 11.0  # sum(x) would say -5
    assert lp_norm(x, 3) == pytest.approx(371.0 ** (1 / 3), rel=1e-14)  # sum(x**3) = -317
    assert lp_norm(-x, 3) == lp_norm(x, 3)


def test_lp_norm_returns_python_float():
    assert type(lp_norm([1.0, 2.0], 2)) is float


def test_lp_norm_zero_vector_and_int_input():
    for p in ORDERS_P:
        assert lp_norm(np.zeros(4), p) == 0.0
        np.testing.assert_allclose(lp_norm([1, -2, 3], p), np.linalg.norm(np.array([1.0, -2.0, 3.0]), p),
                                   rtol=RTOL)


def test_lp_norm_large_p_does_not_overflow():
    x = np.array([1e100, -1e100])
    with np.errstate(over="ignore"):
        assert np.linalg.norm(x, 10) == np.inf  # the textbook formula overflows
    # ||(a, a)||_10 = a * 2^(1/10)
    assert lp_norm(x, 10) == pytest.approx(1e100 * 2 ** 0.1, rel=1e-14)
    assert lp_norm([1.0, 2.0], 1e6) == pytest.approx(2.0, rel=1e-6)  # tends to the inf-norm


@pytest.mark.parametrize("p", [0.5, 0, -1, -np.inf, np.nan, "2", None, True])
def test_lp_norm_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must"):
        lp_norm([1.0, 2.0], p)


@pytest.mark.parametrize("x", [np.ones((2, 2)), 3.0, [], [1.0, np.nan], [np.inf]])
def test_lp_norm_rejects_bad_x(x):
    with pytest.raises(ValueError, match="x"):
        lp_norm(x, 2)


def test_lp_norm_does_not_mutate():
    x = np.array([-3.0, 4.0, 0.5])
    before = x.copy()
    for p in ORDERS_P:
        lp_norm(x, p)
    np.testing.assert_array_equal(x, before)


MATRIX_ORDS = [1, 2, np.inf, "fro"]
SHAPES = [(1, 1), (1, 5), (5, 1), (3, 3), (4, 7), (20, 3), (50, 50)]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_matrix_norm_equals_numpy(ord, shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        A = rng.normal(-0.5, 2.0, shape)
        # The spectral norm goes through an SVD on both sides (LAPACK gesdd): agreement to
        # ~1e-15 relative; the other orders are sums of at most 2500 terms.
        np.testing.assert_allclose(matrix_norm(A, ord), np.linalg.norm(A, ord=ord), rtol=RTOL)


def test_matrix_norm_classic_values():
    A = np.array([[1, 2, 3], [1, 2, 3], [4, 6, 8]])
    assert matrix_norm(A, 1) == 14.0  # column sums 6, 10, 14
    assert matrix_norm(A, np.inf) == 18.0  # row sums 6, 6, 18
    assert matrix_norm(A, "fro") == 12.0  # 1+4+9+1+4+9+16+36+64 = 144


def test_matrix_norm_uses_absolute_values():
    A = np.array([[1.0, -5.0], [-2.0, 1.0]])
    assert matrix_norm(A, 1) == 6.0  # signed column sums would give -1 and -4
    assert matrix_norm(A, np.inf) == 6.0


def test_spectral_norm_is_not_frobenius():
    # diag(3, 4): largest stretch 4, Frobenius 5.
    A = np.diag([3.0, -4.0])
    assert matrix_norm(A, 2) == pytest.approx(4.0, rel=1e-15)
    assert matrix_norm(A, "fro") == pytest.approx(5.0, rel=1e-15)
    # For a rank-one matrix u v^T both equal |u| |v|.
    u, v = np.array([1.0, 2.0, 2.0]), np.array([3.0, -4.0])
    assert matrix_norm(np.outer(u, v), 2) == pytest.approx(15.0, rel=1e-14)
    assert matrix_norm(np.outer(u, v), "fro") == pytest.approx(15.0, rel=1e-14)


def test_matrix_norm_float_ord_and_return_type():
    A = [[1.0, 2.0], [3.0, 4.0]]
    assert matrix_norm(A, 1.0) == matrix_norm(A, 1) == 6.0
    assert type(matrix_norm(A, 2)) is float


@pytest.mark.parametrize("ord", [None, "nuc", "f", -1, 3, -np.inf, -2, True])
def test_matrix_norm_rejects_bad_ord(ord):
    with pytest.raises(ValueError, match="ord must"):
        matrix_norm(np.eye(2), ord)


@pytest.mark.parametrize("A", [np.ones(3), np.ones((2, 2, 2)), np.empty((0, 3)), [[1.0, np.nan]]])
def test_matrix_norm_rejects_bad_A(A):
    with pytest.raises(ValueError, match="A"):
        matrix_norm(A, 1)


def test_matrix_norm_does_not_mutate():
    A = np.array([[-1.0, 2.0], [3.0, -4.0]])
    before = A.copy()
    for ord in MATRIX_ORDS:
        matrix_norm(A, ord)
    np.testing.assert_array_equal(A, before)
