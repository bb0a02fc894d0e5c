"""What to write instead of a NumPy function symdiff does not support.

Each entry is keyed by the function's full name and says why it is missing (briefly) and what to
write instead, in NumPy that symdiff does accept. ``EXAMPLES`` holds each replacement as a program
that the tests compile and compare with NumPy's own function, so that no hint goes stale. A name
that becomes supported is simply never looked up here.
"""

from __future__ import annotations

DATA_SIZED = "its result's size depends on the values, and a gradient needs a fixed shape"
MASK = "keep the shape and mask instead: np.where(x > 0, x, 0.0), or np.sum(x[x > 0])"
RANDOM = ("randomness is an input here: draw the numbers outside (rng.normal(size=...)) and pass "
          "them in as an argument, as a dropout mask or a noise array is")

HINTS: dict[str, str] = {
    # data-dependent sizes: a mask keeps the shape
    "numpy.extract": f"{DATA_SIZED}; {MASK}",
    "numpy.unique": f"{DATA_SIZED}; compare values with a mask (x[:, None] == x[None, :]) instead",
    # Python run per element
    "numpy.vectorize": "it runs Python once per element; call the function on the whole array "
                       "(operators and np. functions work elementwise)",
    "numpy.frompyfunc": "it runs Python once per element; call the function on the whole array",
    "numpy.apply_along_axis": "it runs Python once per slice; most functions take axis= "
                              "(np.sum(x, axis=1)), or loop over the rows with a for loop",
    "numpy.fromfunction": "build the index grid by broadcasting instead: "
                          "np.arange(n)[:, None] + np.arange(m) for fromfunction(lambda i, j: i + j, (n, m))",
    # randomness
    "numpy.random": RANDOM,
    # compositions of supported functions
    "numpy.nanmax": "write np.max(np.where(np.isnan(x), -np.inf, x)) instead",
    "numpy.nanmin": "write np.min(np.where(np.isnan(x), np.inf, x)) instead",
    "numpy.count_nonzero": "write np.sum(x != 0) instead",
    "numpy.cumulative_sum": "write np.cumsum(x) instead",
    "numpy.piecewise": "nest np.where instead: np.where(x < 0, f1, np.where(x < 1, f2, f3))",
    "numpy.logspace": "write 10.0 ** np.linspace(start, stop, num) instead",
    "numpy.vander": "write x[:, None] ** np.arange(n)[::-1] instead (n columns)",
    "numpy.signbit": "write x < 0 instead",
    "numpy.linalg.multi_dot": "write A @ B @ C instead",
    "numpy.linalg.vector_norm": "write np.linalg.norm(x) instead (axis= and ord= as NumPy's)",
    "numpy.linalg.matrix_norm": "write np.linalg.norm(A) instead (Frobenius; ord= as NumPy's)",
    "numpy.linalg.lstsq": "solve the normal equations, np.linalg.solve(A.T @ A, A.T @ b), or "
                          "write np.linalg.pinv(A) @ b",
}

# Each replacement as a program, and the NumPy it stands for: (inputs, symdiff source, reference).
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "numpy.nanmax": ("x", "np.max(np.where(np.isnan(x), -np.inf, x))", "np.nanmax(x)"),
    "numpy.nanmin": ("x", "np.min(np.where(np.isnan(x), np.inf, x))", "np.nanmin(x)"),
    "numpy.count_nonzero": ("x", "np.sum(x != 0)", "np.count_nonzero(x)"),
    "numpy.cumulative_sum": ("x", "np.sum(np.cumsum(x) ** 2)", "np.sum(np.cumsum(x) ** 2)"),
    "numpy.logspace": ("x", "np.sum(x * 10.0 ** np.linspace(0, 2, 5))",
                       "np.sum(x * np.logspace(0, 2, 5))"),
    "numpy.signbit": ("x", "np.sum(np.where(x < 0, x, 0.0))", "np.sum(np.where(np.signbit(x), x, 0.0))"),
    "numpy.linalg.lstsq": ("A", "np.sum(np.linalg.solve(A.T @ A, A.T @ np.ones(3)))",
                           "np.sum(np.linalg.lstsq(A, np.ones(3))[0])"),
    "numpy.vander": ("x", "np.sum(x[:, None] ** np.arange(3)[::-1])", "np.sum(np.vander(x, 3))"),
    "numpy.linalg.multi_dot": ("A", "np.sum(A @ A.T @ A)", "np.sum(np.linalg.multi_dot([A, A.T, A]))"),
    "numpy.linalg.vector_norm": ("x", "np.linalg.norm(x)", "np.linalg.vector_norm(x)"),
    "numpy.linalg.matrix_norm": ("A", "np.linalg.norm(A)", "np.linalg.matrix_norm(A)"),
    "numpy.fromfunction": ("A", "np.sum(A * (np.arange(3)[:, None] + np.arange(3)))",
                           "np.sum(A * np.fromfunction(lambda i, j: i + j, (3, 3)))"),
}


def hint(qualified: str) -> str | None:
    """What to write instead of ``qualified`` (``numpy.nonzero``; ``numpy.random.normal`` is
    found under ``numpy.random``), or None."""
    while qualified:
        if qualified in HINTS:
            return HINTS[qualified]
        qualified = qualified.rpartition(".")[0]
    return None
