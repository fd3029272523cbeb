"""Start the test provider: `python -m tests.oidc_provider.serve` with

  OIDC_PROVIDER_DB        a SQLite file to create
  OIDC_PROVIDER_KEY_FILE  the RSA private key (PEM) that signs ID tokens
  OIDC_PROVIDER_SETUP     JSON: {"client_id", "client_secret", "redirect_uris": [...],
                          "users": [{"username", "email", "password", "email_verified"}]}

Binds 127.0.0.1 on a free port, migrates, creates the users and the confidential client
(skip_authorization), prints "READY <port>" and serves until killed.
"""

import json
import os
import sys


def main():
    # Bind first (port 0: the OS picks a free one); the issuer URL needs the port.
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    port = server.server_port
    os.environ["OIDC_PROVIDER_ISSUER"] = f"http://127.0.0.1:{port}/o"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"

    import django

    django.setup()

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    from tests.oidc_provider.validators import UNVERIFIED_GROUP

    setup = json.loads(os.environ["OIDC_PROVIDER_SETUP"])
    call_command("migrate", verbosity=0, interactive=False)
    unverified = Group.objects.create(name=UNVERIFIED_GROUP)
    for person in setup["users"]:
        user = User.objects.create_user(
            person["username"], email=person["email"], password=person["password"]
        )
        if not person.get("email_verified", True):
            user.groups.add(unverified)
    Application.objects.create(
        name="QI Portal (test)",
        client_id=setup["client_id"],
        client_secret=setup["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(setup["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )

    server.set_app(get_wsgi_application())
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
