"""REST API for drivers, change ideas, measures and data points."""


def register(router):
    """No endpoints yet."""
