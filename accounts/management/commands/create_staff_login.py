"""Create the staff login for ``make run`` (or reset its password) and print it once.

The password is random on every run and never stored anywhere but as a hash; running the
command again is the way to get a new one.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from config.errors import ApplicationError

DEFAULT_EMAIL = "admin@localhost.localdomain"
BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Create a superuser staff account (or reset its password) with a random password and print it."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEFAULT_EMAIL, help=f"Login email (default: {DEFAULT_EMAIL}).")
        parser.add_argument("--base-url", default=BASE_URL, help=f"Where the server listens (default: {BASE_URL}).")

    def handle(self, *args, email: str, base_url: str, **options) -> None:
        try:
            user, password, created = services.user_staff_login_ensure(email=email)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        base_url = base_url.rstrip("/")
        rule = "=" * 64
        lines = [
            rule,
            f"Staff login {'created' if created else 'reset'} (the password is shown only now):",
            f"  Admin:     {base_url}/admin/",
            f"  API docs:  {base_url}/api/docs/",
            f"  Email:     {user.email}",
            f"  Password:  {password}",
            "",
            "  Try the API (a bearer token from the login, then a report, a browse page, lookalikes):",
            "    read -rsp 'Password: ' PASSWORD; echo",
            f"    TOKEN=$(curl -s -X POST {base_url}/api/v1/auth/login -H 'Content-Type: application/json' \\",
            f'      -d "{{\\"email\\": \\"{user.email}\\", \\"password\\": \\"$PASSWORD\\"}}" \\',
            "      | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access\"])')",
            f'    curl -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/search/creator/humansofny',
            f"    curl -H \"Authorization: Bearer $TOKEN\" '{base_url}/api/v1/discovery/browse?sort=engagement_rate'",
            f'    curl -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/discovery/lookalikes/humansofny',
            rule,
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
