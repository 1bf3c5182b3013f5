"""`og-server`: run, migrate and administer the API server."""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from server.config import Settings
from server.problems import DomainError
from server.scopes import SCOPES


def _print(data: dict[str, Any], *, as_json: bool, lines: Sequence[str]) -> None:
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print("\n".join(lines))


def _prepare(settings: Settings) -> None:
    from server import config, storage
    from server.db import engine as db
    from server.db.migrate import upgrade_to_head

    config.activate(settings)  # the services read the active settings (the secret key, Wise) as in the server
    db.configure(settings)
    storage.configure(settings)  # new accounts' sandbox mock data stores its media
    upgrade_to_head(settings.database_url)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    _prepare(settings)
    _print(
        {"migrated": True, "database": _safe_url(settings.database_url)},
        as_json=args.json,
        lines=[f"Database {_safe_url(settings.database_url)} is at the newest schema."],
    )
    return 0


def bound_base_url(host: str, port: int) -> str:
    """The URL a local client reaches a server bound to `host:port` at (a wildcard address means this machine)."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - naming the wildcard address, not binding to it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server import http_protocol
    from server.seed import seed_demo_if_empty

    _prepare(settings)
    if args.no_worker:  # read again by server.asgi in each uvicorn process
        os.environ["OG_WEBHOOKS_EMBEDDED_WORKER"] = "0"
    demo = seed_demo_if_empty(settings) if not args.no_seed else None
    base_url = settings.base_url
    if not os.environ.get("OG_BASE_URL"):
        # Without OG_BASE_URL the links the API hands out (OAuth discovery's issuer and endpoints, Location
        # headers) follow the address this server is bound to, not the default port (read in each uvicorn process).
        base_url = bound_base_url(args.host, args.port)
        os.environ["OG_BASE_URL"] = base_url
    if demo is not None:
        print(demo.banner(base_url), flush=True)
    else:
        print(
            f"OG Records API on {base_url} (docs: {base_url}/docs, spec: {base_url}/openapi.json). "
            "Create a key with: og-server keys create --account ACCOUNT_ID --env sandbox",
            flush=True,
        )
    uvicorn.run(
        "server.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        # A request uvicorn's parser refuses gets a problem+json 400 too (server/http_protocol.py).
        http=http_protocol.protocol(),
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import signal
    from datetime import timedelta

    from server.db import engine as db
    from server.webhooks import worker

    # No migration here: many workers start at once; `og-server migrate` (or serve) brings the schema up first.
    db.configure(settings)
    delivery_worker = worker.Worker.from_settings(
        settings, batch=args.batch, lease=timedelta(seconds=args.lease_seconds)
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"webhook worker running (batch {args.batch}, lease {args.lease_seconds} s)", flush=True)
        await worker.run(delivery_worker, stop)

    asyncio.run(main())
    return 0


def cmd_accounts_create(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.services import accounts, api_keys

    _prepare(settings)
    with session_scope() as session:
        account, user, password = accounts.create_account(
            session,
            name=args.name,
            email=args.email or f"owner+{args.name.lower().replace(' ', '-')}@example.com",
            password=args.password,
            plan=args.plan,
            kind=args.kind,
            production_access=args.production_access,
            mock_data=False if args.no_mock_data else None,  # None: OG_SANDBOX_MOCK_DATA (on by default)
        )
        issued = api_keys.create_key(
            session, account=account, environment="sandbox", name="Default sandbox key", scopes=list(SCOPES)
        )
    data = {
        "account": {
            "id": account.id,
            "name": account.name,
            "plan": account.plan,
            "production_access": account.production_access,
        },
        "user": {"id": user.id, "email": user.email, "password": password},
        "api_key": {
            "id": issued.key.id,
            "environment": "sandbox",
            "secret": issued.secret,
            "scopes": issued.key.scopes,
        },
    }
    _print(
        data,
        as_json=args.json,
        lines=[
            f"Account  {account.id}  {account.name} (plan {account.plan})",
            f"User     {user.email}  password: {password}",
            f"API key  {issued.key.id}  {issued.secret}  (sandbox, every scope; shown once)",
        ],
    )
    return 0


def cmd_accounts_grant_production(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.services import production_access

    _prepare(settings)
    with session_scope() as session:
        account = production_access.grant(session, args.account)  # emails whoever asked for it
    _print(
        {"account": {"id": account.id, "production_access": True}},
        as_json=args.json,
        lines=[f"Account {account.id} now has production access."],
    )
    return 0


def cmd_accounts_requests(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.services import production_access

    _prepare(settings)
    with session_scope() as session:
        waiting = production_access.open_requests(session)
        data: list[dict[str, Any]] = [
            {
                "id": request.id,
                "account": {"id": account.id, "name": account.name, "kind": account.kind},
                "user_email": user.email,
                "use_case": request.use_case,
                "expected_volume": request.expected_volume,
                "created_at": request.created_at.isoformat(),
            }
            for request, account, user in waiting
        ]
    lines = [
        f"{item['created_at'][:16]}  {item['account']['id']}  {item['account']['name']} <{item['user_email']}>\n"
        f"    volume: {item['expected_volume']}\n    use case: {item['use_case']}"
        for item in data
    ]
    lines.append(
        f"{len(data)} open request(s). Grant one with: og-server accounts grant-production ACCOUNT_ID"
        if data
        else "No open production access requests."
    )
    _print({"requests": data}, as_json=args.json, lines=lines)
    return 0


def cmd_accounts_set_plan(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.services import accounts

    _prepare(settings)
    with session_scope() as session:
        account = accounts.set_plan(session, args.account, args.plan)
    _print(
        {"account": {"id": account.id, "plan": account.plan}},
        as_json=args.json,
        lines=[f"Account {account.id} is now on the {account.plan} plan."],
    )
    return 0


def cmd_accounts_set_payout_details(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.domain.payouts import blocking_state
    from server.services import payouts

    _prepare(settings)
    with session_scope() as session:
        account = payouts.set_payout_details(
            session, args.account, account_holder=args.holder, iban=args.iban, verified=args.verified
        )
        blocked = blocking_state(account, "production")
    _print(
        {"account": {"id": account.id, "payee_verified": account.payee_verified, "payouts_blocked_by": blocked}},
        as_json=args.json,
        lines=[f"Account {account.id}: production payouts " + (f"blocked ({blocked})." if blocked else "enabled.")],
    )
    return 0


def cmd_payouts_retry(args: argparse.Namespace, settings: Settings) -> int:
    from server.services import inbound_webhooks, payouts

    _prepare(settings)
    tried = payouts.send_waiting()
    events = inbound_webhooks.reprocess_wise_receipts()
    _print(
        {"tried": tried, "wise_events": events},
        as_json=args.json,
        lines=[f"Retried the Wise transfer of {tried} waiting payout(s) and {events} unprocessed Wise event(s)."],
    )
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.services import accounts, api_keys

    _prepare(settings)
    scopes = list(SCOPES) if args.scopes in (None, "all") else [s.strip() for s in args.scopes.split(",") if s]
    with session_scope() as session:
        account = accounts.find_account(session, args.account)
        issued = api_keys.create_key(session, account=account, environment=args.env, name=args.name, scopes=scopes)
    data = {
        "api_key": {
            "id": issued.key.id,
            "account_id": account.id,
            "environment": args.env,
            "name": args.name,
            "scopes": issued.key.scopes,
            "secret": issued.secret,
        }
    }
    _print(data, as_json=args.json, lines=[f"API key {issued.key.id}: {issued.secret} (shown once)"])
    return 0


def cmd_oauth_clients_create(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.services import accounts, oauth_clients

    _prepare(settings)
    scopes = None if args.scopes in (None, "all") else [s.strip() for s in args.scopes.split(",") if s]
    with session_scope() as session:
        account = accounts.find_account(session, args.account)
        registered = oauth_clients.register(
            session,
            account=account,
            environment=args.env,
            name=args.name,
            redirect_uris=args.redirect_uri,
            public=args.public,
            scopes=scopes,
        )
    client = registered.client
    data = {
        "oauth_client": {
            "client_id": client.id,
            "client_secret": registered.secret,
            "name": client.name,
            "environment": client.environment,
            "public": client.is_public,
            "redirect_uris": client.redirect_uris,
            "scopes": client.allowed_scopes,
        }
    }
    secret_line = (
        "public client: no secret (PKCE only)"
        if registered.secret is None
        else (f"client_secret: {registered.secret} (shown once)")
    )
    _print(data, as_json=args.json, lines=[f"client_id: {client.id}", secret_line])
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for output."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url


def _message_summary(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "created_at": message.created_at,
        "environment": message.environment,
        "channel": message.channel,
        "kind": message.kind,
        "to": message.recipient,
        "subject": message.subject,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
    }


def cmd_mail_list(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.mail import outbox

    _prepare(settings)
    with session_scope() as session:
        rows = [_message_summary(m) for m in outbox.recent(session, status=args.status, limit=args.limit)]
    lines = [
        f"{row['id']}  {row['created_at']:%Y-%m-%d %H:%M}  {row['status']:<7} {row['channel']:<8} {row['to']}  "
        f"{row['subject'] or row['kind']}"
        for row in rows
    ]
    _print({"messages": rows}, as_json=args.json, lines=lines or ["The outbox is empty."])
    return 0


def cmd_mail_show(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.mail import outbox

    _prepare(settings)
    with session_scope() as session:
        message = outbox.find(session, args.id)
        if message is None:
            print(f"No message {args.id}.", file=sys.stderr)
            return 1
        data = {**_message_summary(message), "text": message.text_body, "html": message.html_body}
    lines = [
        f"{data['status']} {data['channel']} message {data['id']} ({data['kind']}, {data['environment']})",
        f"To: {data['to']}",
        f"Subject: {data['subject']}",
        "",
        data["text"],
    ]
    _print({"message": data}, as_json=args.json, lines=lines)
    return 0


def cmd_mail_send(args: argparse.Namespace, settings: Settings) -> int:
    from server.mail import dispatch
    from server.webhooks.worker import mail_failure_handlers

    _prepare(settings)
    total = 0
    while sent := dispatch.dispatch_due(dispatch.Providers.from_settings(settings), on_failure=mail_failure_handlers()):
        total += sent
    _print({"attempted": total}, as_json=args.json, lines=[f"Attempted {total} queued message(s)."])
    return 0


def cmd_accounts_set_whatsapp(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.engine import session_scope
    from server.db.models.accounts import Account

    _prepare(settings)
    with session_scope() as session:
        account = session.get(Account, args.account)
        if account is None:
            print(f"No account {args.account}.", file=sys.stderr)
            return 1
        account.whatsapp_notifications = args.enabled
        session.add(account)
    state = "also by WhatsApp" if args.enabled else "by email only"
    _print(
        {"account": {"id": args.account, "whatsapp_notifications": args.enabled}},
        as_json=args.json,
        lines=[f"Account {args.account}: invitations go out {state}."],
    )
    return 0


def _add_mail_commands(command: Any, commands: Any, accounts_commands: Any) -> None:
    whatsapp = command(
        "set-whatsapp",
        cmd_accounts_set_whatsapp,
        "Send invitations by WhatsApp too (whapi.cloud) to persons with a phone number; the account confirms that "
        "its payees agreed to be contacted there.",
        accounts_commands,
    )
    whatsapp.add_argument("account", help="the account id (acct_…)")
    whatsapp.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=True, help="on (default) or off")

    mail_parser = commands.add_parser("mail", help="The outbound mail outbox.")
    mail_commands = mail_parser.add_subparsers(dest="mail_command", required=True)
    listing = command(
        "list",
        cmd_mail_list,
        "List outbound messages, newest first (without OG_MAILGUN_API_KEY they wait here with status 'local').",
        mail_commands,
    )
    listing.add_argument("--status", choices=["sandbox", "local", "queued", "sent", "failed"], help="only this status")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    show = command("show", cmd_mail_show, "Show one message with its whole text.", mail_commands)
    show.add_argument("id", help="the message id (msg_…)")
    command(
        "send", cmd_mail_send, "Send the queued messages that are due now (the worker does this too).", mail_commands
    )


def _add_payout_commands(command: Any, commands: Any, accounts_commands: Any) -> None:
    payout_details = command(
        "set-payout-details",
        cmd_accounts_set_payout_details,
        "Record the payee's KYC verification and bank account (production payouts need both; sandbox never asks).",
        accounts_commands,
    )
    payout_details.add_argument("account", help="the account id (acct_…)")
    payout_details.add_argument("--holder", help="the bank account holder's name")
    payout_details.add_argument("--iban", help="the IBAN payouts go to")
    payout_details.add_argument(
        "--verified", action=argparse.BooleanOptionalAction, default=None, help="the payee passed (or lost) KYC"
    )

    payouts_parser = commands.add_parser("payouts", help="Payout operations.")
    payouts_commands = payouts_parser.add_subparsers(dest="payouts_command", required=True)
    command(
        "retry",
        cmd_payouts_retry,
        "Create the Wise transfers of payouts still waiting for one and apply Wise events not processed yet (after an "
        "outage or a crash); safe to repeat.",
        payouts_commands,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="og-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Any, help_text: str, parent: Any = commands) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        sub.set_defaults(handler=handler)
        return sub

    serve = command("serve", cmd_serve, "Migrate, seed a demo account on first start, and serve the API.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-seed", action="store_true", help="do not seed the demo account")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not deliver webhooks in this process (run `og-server worker`)"
    )

    worker_parser = command(
        "worker", cmd_worker, "Deliver webhooks: a worker process beside `serve --no-worker` (PostgreSQL)."
    )
    worker_parser.add_argument("--batch", type=int, default=64, help="deliveries claimed and sent at once")
    worker_parser.add_argument(
        "--lease-seconds", type=int, default=60, help="how long a claimed delivery is reserved (must exceed 15)"
    )

    command("migrate", cmd_migrate, "Bring the database to the newest schema.")

    accounts_parser = commands.add_parser("accounts", help="Manage accounts.")
    accounts_commands = accounts_parser.add_subparsers(dest="accounts_command", required=True)
    create = command(
        "create",
        cmd_accounts_create,
        "Create an account, its first user and a sandbox key with every scope.",
        accounts_commands,
    )
    create.add_argument("--name", required=True)
    create.add_argument("--email")
    create.add_argument("--password", help="generated when omitted")
    create.add_argument("--plan", choices=["free", "business"], default="free")
    create.add_argument("--kind", choices=["artist", "label"], default="artist")
    create.add_argument("--production-access", action="store_true")
    create.add_argument(
        "--no-mock-data", action="store_true", help="start with an empty sandbox (default: mock catalogue and money)"
    )
    grant = command(
        "grant-production",
        cmd_accounts_grant_production,
        "Give an account production access (early access).",
        accounts_commands,
    )
    grant.add_argument("account", help="the account id (acct_…)")
    command(
        "requests",
        cmd_accounts_requests,
        "List the production access requests of accounts that do not have production access yet (oldest first).",
        accounts_commands,
    )
    set_plan = command(
        "set-plan",
        cmd_accounts_set_plan,
        "Move an account to another plan (its production rate limit changes on the next request).",
        accounts_commands,
    )
    set_plan.add_argument("account", help="the account id (acct_…)")
    set_plan.add_argument("--plan", choices=["free", "business"], required=True)
    _add_payout_commands(command, commands, accounts_commands)
    _add_mail_commands(command, commands, accounts_commands)

    keys_parser = commands.add_parser("keys", help="Manage API keys.")
    keys_commands = keys_parser.add_subparsers(dest="keys_command", required=True)
    keys_create = command("create", cmd_keys_create, "Create an API key (the secret is shown once).", keys_commands)
    keys_create.add_argument("--account", required=True)
    keys_create.add_argument("--env", choices=["sandbox", "production"], default="sandbox")
    keys_create.add_argument("--name", default="CLI key")
    keys_create.add_argument("--scopes", help=f"comma-separated, or 'all' (default). Known: {', '.join(SCOPES)}")

    clients_parser = commands.add_parser("oauth-clients", help="Manage OAuth clients (applications).")
    clients_commands = clients_parser.add_subparsers(dest="clients_command", required=True)
    clients_create = command(
        "create",
        cmd_oauth_clients_create,
        "Register an OAuth client (the secret of a confidential client is shown once).",
        clients_commands,
    )
    clients_create.add_argument("--account", required=True, help="the account that owns the application")
    clients_create.add_argument("--name", default="OAuth application")
    clients_create.add_argument(
        "--redirect-uri",
        action="append",
        required=True,
        help="exact redirect URI (repeat for several); loopback IPs match any port",
    )
    clients_create.add_argument("--env", choices=["sandbox", "production"], default="sandbox")
    clients_create.add_argument(
        "--public", action="store_true", help="a public client (SPA, native app) without a secret"
    )
    clients_create.add_argument("--scopes", help="comma-separated scopes it may request, or 'all' (default)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        code: int = args.handler(args, settings)
    except DomainError as problem:
        print(f"error: {problem.code}: {problem.detail}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
