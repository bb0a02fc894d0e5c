"""A single sigmoid neuron from the lecture: f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))).

At w = [2, -3, -3] and x = [-1, -2] the weighted sum is 1, so f = sigma(1) = 0.73.
Because d sigma(z)/dz = (1 - sigma(z)) * sigma(z), the whole backward pass collapses to one
local gradient, (1 - 0.73) * 0.73 = 0.20, times each input of the dot product:

    dw0 = x0 * 0.20 = -0.20    dx0 = w0 * 0.20 =  0.39
    dw1 = x1 * 0.20 = -0.39    dx1 = w1 * 0.20 = -0.59
    dw2 =  1 * 0.20 =  0.20

    python examples/neuron.py
"""

import math

import symdiff

FORMULA = "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"
POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
ORDER = ("w0", "x0", "w1", "x1", "w2")


def by_hand(w0, x0, w1, x1, w2):
    """The closed form: every gradient is (1 - s) * s times the other factor of its product."""
    s = 1.0 / (1.0 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    local = (1.0 - s) * s
    return s, {"w0": x0 * local, "x0": w0 * local, "w1": x1 * local,
               "x1": w1 * local, "w2": 1.0 * local}


def main():
    g = symdiff.compile(FORMULA)
    value, grads = g(**POINT)
    hand_value, hand = by_hand(**POINT)

    print(f"f = {FORMULA}")
    print(f"at w = [2, -3, -3], x = [-1, -2]:  f = {value:.2f}   (by hand: {hand_value:.2f})")
    print(f"{'':>5} {'symdiff':>10} {'(1-s)*s by hand':>16}")
    for name in ORDER:
        print(f"d{name:<4} {grads[name]:>10.2f} {hand[name]:>16.2f}")
        assert math.isclose(grads[name], hand[name], rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(value, hand_value, rel_tol=1e-12)

    # The lecture's rounded numbers.
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    assert round(value, 2) == 0.73
    assert all(round(grads[k], 2) == v for k, v in expected.items())
    print("matches the closed form (1 - sigma) * sigma")
    return value, grads


if __name__ == "__main__":
    main()
