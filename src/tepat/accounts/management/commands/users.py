from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.accounts.models import Organisation, OrganisationKind, Role, User
from tepat.accounts.services import user_create
from tepat.areas.models import Area
from tepat.errors import UserError


class Command(BaseCommand):
    help = "Accounts: `tepat users add NAME --role ROLE [--area CODE] [--org NAME]`, `tepat users list`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["add", "list"])
        parser.add_argument("username", nargs="?")
        parser.add_argument("--role", choices=[r.value for r in Role])
        parser.add_argument("--area", default=None, help="Kemendagri code of the user's working area")
        parser.add_argument("--org", default=None, help="organisation name (agency or partner)")
        parser.add_argument("--org-kind", choices=[k.value for k in OrganisationKind], default=OrganisationKind.AGENCY)
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for user in User.objects.select_related("organisation").order_by("username"):
                self.stdout.write(
                    f"{user.username}\t{user.role}\t{user.area_id or '(wilayah deployment)'}\t{user.organisation or ''}"
                )
            return
        username, role = options["username"], options["role"]
        if not username or not role:
            raise UserError("usage: tepat users add USERNAME --role ROLE [--area CODE] [--org NAME]")
        if User.objects.filter(username=username).exists():
            raise UserError(f"user {username!r} already exists")
        area = options["area"]
        if area and not Area.objects.filter(code=area).exists():
            raise UserError(f"unknown area code {area!r}")
        if role in (Role.AGENCY_OPERATOR, Role.PARTNER) and not options["org"]:
            raise UserError("agency operators and partners need --org")
        org = None
        if options["org"]:
            kind = OrganisationKind.COMPANY if role == Role.PARTNER else options["org_kind"]
            org, _ = Organisation.objects.get_or_create(name=options["org"], defaults={"kind": kind})
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
        if len(password) < 10:
            raise UserError("the password must have at least 10 characters")
        user_create(actor=None, username=username, password=password, role=Role(role), area_code=area, organisation=org)
        self.stdout.write(f"created {username} ({role})")
