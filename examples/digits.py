"""The 8x8 digits of scikit-learn, as the trained examples use them."""

def load_data(seed=0, test_fraction=0.2):
    """The 8x8 digits, standardized with the training set's statistics, split with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=test_fraction, random_state=seed,
        stratify=digits.target)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0                                   # a few border pixels are always 0
    return (X_train - mean) / std, (X_test - mean) / std, y_train, y_test

