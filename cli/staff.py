"""`lifecycle staff ...` and `lifecycle token ...`: people and API access."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from cli.output import console, fail
from domain.db import unit_of_work
from domain.staff.errors import StaffError
from domain.staff.models import StaffRole, TokenRole
from domain.staff.service import add_staff, create_token, revoke_token

staff_app = typer.Typer(help="Sales and admin staff.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    name: str = typer.Argument(..., help="full name"),
    role: StaffRole = typer.Option(StaffRole.SALES, help="sales or admin"),
    email: str | None = typer.Option(None, help="work email"),
    telegram_id: int | None = typer.Option(None, help="Telegram user id, if known"),
    language: str = typer.Option("en", help="language for bot replies"),
    timezone: str = typer.Option("UTC", help="IANA time zone for digests"),
) -> None:
    """Add a staff member and print the one-time code they send the bot as /start CODE."""
    try:
        with unit_of_work() as session:
            new = add_staff(
                session=session,
                name=name,
                role=role,
                email=email,
                telegram_user_id=telegram_id,
                language=language,
                timezone=timezone,
            )
    except (StaffError, ValueError) as exc:
        fail(str(exc))
    console.print(f"staff #{new.staff.id} {new.staff.name} ({new.staff.role}) added")
    console.print("link code (valid 7 days; send it to the bot as /start CODE):")
    print(new.link_code)


@token_app.command("create")
def token_create(
    role: TokenRole = typer.Option(..., help="read, sales, admin or bot"),
    name: str = typer.Option("", help="what the token is for"),
    staff_id: int | None = typer.Option(None, help="staff member the token acts for"),
    expires: datetime | None = typer.Option(None, help="expiry (ISO date/time, UTC)"),
) -> None:
    """Create an API token; the token itself is printed alone on the last line."""
    expires_at = expires.replace(tzinfo=UTC) if expires and expires.tzinfo is None else expires
    try:
        with unit_of_work() as session:
            new = create_token(
                session=session,
                name=name or f"{role} token",
                role=role,
                staff_id=staff_id,
                expires_at=expires_at,
            )
    except StaffError as exc:
        fail(str(exc))
    console.print(f"token #{new.token.id} ({new.token.role}) created; it is shown only once:")
    print(new.value)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="id printed by token create")) -> None:
    """Revoke a token; it stops working at once."""
    try:
        with unit_of_work() as session:
            revoke_token(session=session, token_id=token_id)
    except StaffError as exc:
        fail(str(exc))
    console.print(f"token #{token_id} revoked")
