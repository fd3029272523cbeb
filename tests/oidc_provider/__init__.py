"""A real OpenID Connect provider for the single sign-on tests: a minimal Django project on
django-oauth-toolkit, started by tests/organisations/test_oidc.py as a subprocess on
127.0.0.1 with its own SQLite file and a fresh RSA key. Never part of the portal."""
