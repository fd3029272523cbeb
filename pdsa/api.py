"""REST API for pdsa. Endpoints register on the one /api/v1/ router."""


def register(router):
    """No endpoints yet."""
