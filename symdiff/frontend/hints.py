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
    "numpy.nonzero": f"{DATA_SIZED}; {MASK}",
    "numpy.argwhere": f"{DATA_SIZED}; {MASK}",
    "numpy.flatnonzero": f"{DATA_SIZED}; {MASK}",
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
    "numpy.nansum": "write np.sum(np.where(np.isnan(x), 0.0, x)) instead",
    "numpy.nanmax": "write np.max(np.where(np.isnan(x), -np.inf, x)) instead",
    "numpy.nanmin": "write np.min(np.where(np.isnan(x), np.inf, x)) instead",
    "numpy.nanmean": "write np.sum(np.where(np.isnan(x), 0.0, x)) / np.sum(~np.isnan(x)) instead",
    "numpy.ptp": "write np.max(x) - np.min(x) instead (axis= on both for an axis)",
    "numpy.count_nonzero": "write np.sum(x != 0) instead",
    "numpy.cumulative_sum": "write np.cumsum(x) instead",
    "numpy.take": "index instead: x[idx], or x[:, idx] along axis 1",
    "numpy.take_along_axis": "index with an array per axis instead: x[np.arange(len(idx)), idx] "
                             "picks x[i, idx[i]]",
    "numpy.append": "write np.concatenate([x, values]) instead",
    "numpy.trapz": "write np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) instead",
    "numpy.trapezoid": "write np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) instead",
    "numpy.meshgrid": "broadcast instead: x[None, :] and y[:, None] act as meshgrid(x, y)",
    "numpy.select": "nest np.where instead: np.where(c1, a, np.where(c2, b, default))",
    "numpy.piecewise": "nest np.where instead: np.where(x < 0, f1, np.where(x < 1, f2, f3))",
    "numpy.polyval": "write Horner's rule instead: (c[0] * x + c[1]) * x + c[2]",
    "numpy.logspace": "write 10.0 ** np.linspace(start, stop, num) instead",
    "numpy.tri": "write np.tril(np.ones((n, m))) instead",
    "numpy.vander": "write x[:, None] ** np.arange(n)[::-1] instead (n columns)",
    "numpy.cov": "write (X - X.mean(axis=0)).T @ (X - X.mean(axis=0)) / (n - 1) instead "
                  "(columns of X as variables)",
    "numpy.signbit": "write x < 0 instead",
    "numpy.linalg.matrix_power": "multiply instead: A @ A @ A",
    "numpy.linalg.multi_dot": "write A @ B @ C instead",
    "numpy.linalg.vector_norm": "write np.linalg.norm(x) instead (axis= and ord= as NumPy's)",
    "numpy.linalg.matrix_norm": "write np.linalg.norm(A) instead (Frobenius; ord= as NumPy's)",
    "numpy.linalg.lstsq": "solve the normal equations, np.linalg.solve(A.T @ A, A.T @ b), or "
                          "write np.linalg.pinv(A) @ b",
}

# Each replacement as a program, and the NumPy it stands for: (inputs, symdiff source, reference).
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "numpy.nansum": ("x", "np.sum(np.where(np.isnan(x), 0.0, x))", "np.nansum(x)"),
    "numpy.nanmax": ("x", "np.max(np.where(np.isnan(x), -np.inf, x))", "np.nanmax(x)"),
    "numpy.nanmin": ("x", "np.min(np.where(np.isnan(x), np.inf, x))", "np.nanmin(x)"),
    "numpy.nanmean": ("x", "np.sum(np.where(np.isnan(x), 0.0, x)) / np.sum(~np.isnan(x))",
                      "np.nanmean(x)"),
    "numpy.ptp": ("x", "np.max(x) - np.min(x)", "np.ptp(x)"),
    "numpy.count_nonzero": ("x", "np.sum(x != 0)", "np.count_nonzero(x)"),
    "numpy.cumulative_sum": ("x", "np.sum(np.cumsum(x) ** 2)", "np.sum(np.cumsum(x) ** 2)"),
    "numpy.take": ("x", "np.sum(x[np.array([2, 0])] ** 2)", "np.sum(np.take(x, [2, 0]) ** 2)"),
    "numpy.take_along_axis": ("A", "np.sum(A[np.arange(3), np.array([1, 0, 2])] ** 2)",
                              "np.sum(np.take_along_axis(A, np.array([[1], [0], [2]]), 1) ** 2)"),
    "numpy.append": ("x", "np.sum(np.concatenate([x, x * 2]) ** 2)",
                     "np.sum(np.append(x, x * 2) ** 2)"),
    "numpy.trapezoid": ("x, y", "np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))",
                        "np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))"),
    "numpy.meshgrid": ("x, y", "np.sum(np.sin(x[None, :] * y[:, None]))",
                       "np.sum(np.sin(np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1]))"),
    "numpy.select": ("x", "np.sum(np.where(x < 0, -x, np.where(x < 1, x ** 2, x)))",
                     "np.sum(np.select([x < 0, x < 1], [-x, x ** 2], x))"),
    "numpy.polyval": ("x", "np.sum((2.0 * x + 3.0) * x + 1.0)", "np.sum(np.polyval([2, 3, 1], x))"),
    "numpy.logspace": ("x", "np.sum(x * 10.0 ** np.linspace(0, 2, 5))",
                       "np.sum(x * np.logspace(0, 2, 5))"),
    "numpy.signbit": ("x", "np.sum(np.where(x < 0, x, 0.0))", "np.sum(np.where(np.signbit(x), x, 0.0))"),
    "numpy.linalg.lstsq": ("A", "np.sum(np.linalg.solve(A.T @ A, A.T @ np.ones(3)))",
                           "np.sum(np.linalg.lstsq(A, np.ones(3))[0])"),
    "numpy.tri": ("A", "np.sum(A * np.tril(np.ones((3, 3))))", "np.sum(A * np.tri(3))"),
    "numpy.vander": ("x", "np.sum(x[:, None] ** np.arange(3)[::-1])", "np.sum(np.vander(x, 3))"),
    "numpy.cov": ("A", "np.sum(((A - A.mean(axis=0)).T @ (A - A.mean(axis=0)) / (3 - 1)) ** 2)",
                  "np.sum(np.cov(A, rowvar=False) ** 2)"),
    "numpy.linalg.matrix_power": ("A", "np.sum(A @ A @ A)", "np.sum(np.linalg.matrix_power(A, 3))"),
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
