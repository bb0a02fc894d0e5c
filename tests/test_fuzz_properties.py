"""Random programs against JAX (benchmarks/fuzz_jax.py's generator), as a property test.

Programs mix NumPy functions, broadcasting, reductions, products, linear algebra, shape ops,
indexing, tuple outputs of mixed shapes, names the generated code uses (``out``, ``dout0``,
``t1``), branches, helpers and in-place updates. Each is checked for its value against NumPy, its
vector-Jacobian product against JAX in float64 (disagreements confirmed by central differences)
and the written module against the compiled function. JAX is the oracle, so this runs where it
is installed (``pip install jax``); the seeds are fixed in CI's profile.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("jax")
fuzz = pytest.importorskip("benchmarks.fuzz_jax")


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2 ** 31 - 1))
def test_random_programs_agree_with_jax(seed):
    result = fuzz.check_one(seed)
    assert result["status"] not in ("wrong", "crash"), result
