"""`og-records`: the developer CLI shipped with the Python SDK.

    og-records login                                   # store an API key (0600 config file)
    og-records listen --forward-to http://localhost:3000/webhooks
    og-records trigger person.created
    og-records persons create --name "Mara" --email mara@example.com
    og-records persons list --limit 5

Every operation of the API is `og-records <resource> <method>` with the SDK's names (codegen/surface.yaml); path
parameters and body fields are `--options`; the answer is printed as JSON. The key comes from `--api-key`, else
`OG_RECORDS_API_KEY`, else the config file `og-records login` wrote.
"""

import argparse
import base64
import datetime
import getpass
import inspect
import json
import os
import secrets
import sys
import time
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from og_records._base import APIResponse
from og_records._client import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, OGRecords
from og_records._exceptions import APIError, APIStatusError
from og_records._generated import surface
from og_records._generated.models import SandboxTriggerEvent
from og_records._generated.types import File, Unset
from og_records.pagination import SyncPage
from og_records.uploads import file_from
from og_records.webhooks import sign

CONFIG_ENV = "OG_RECORDS_CONFIG"
_OPTIONS = {"extra_headers", "timeout", "max_retries", "self"}


# --- configuration -------------------------------------------------------------------------------------------------


def config_path() -> Path:
    """`$OG_RECORDS_CONFIG`, else `$XDG_CONFIG_HOME/og-records/config.json` (`~/.config/…`)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "og-records" / "config.json"


def read_config() -> dict[str, str]:
    path = config_path()
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8") or "{}")
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_config(values: dict[str, str]) -> Path:
    """Writes the config readable by its owner only (0600 in a 0700 folder): it holds an API key."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=2)
    path.chmod(0o600)  # an existing file keeps its old mode through os.open
    return path


def _client(args: argparse.Namespace) -> OGRecords:
    config = read_config()
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or config.get("api_key")
    if not api_key:
        raise SystemExit(f"No API key: run `og-records login`, set {API_KEY_ENV}, or pass --api-key.")
    base_url = args.base_url or os.environ.get(BASE_URL_ENV) or config.get("base_url") or DEFAULT_BASE_URL
    return OGRecords(api_key=api_key, base_url=base_url)


# --- output --------------------------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """JSON-ready data for whatever an SDK method returned."""
    if isinstance(value, APIResponse):
        return _plain(value.parse())
    if isinstance(value, SyncPage):
        return _plain(value.body)
    if isinstance(value, httpx.Response):
        try:
            body: object = value.json()
        except ValueError:
            body = value.text or None
        return {"status": value.status_code, "location": value.headers.get("location"), "body": body}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _print_json(value: object) -> None:
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False, default=str))


# --- `og-records <resource> <method>` ------------------------------------------------------------------------------


def _operations() -> dict[str, dict[str, str]]:
    """resource → method → operationId, from the SDK's surface."""
    found: dict[str, dict[str, str]] = {}
    for operation_id, path in surface.OPERATIONS.items():
        resource, method = path.split(".")
        found.setdefault(resource, {})[method] = operation_id
    return found


def _bound_method(client: OGRecords, resource: str, method: str) -> Callable[..., object]:
    return typing.cast(Callable[..., object], getattr(getattr(client, resource), method))


def _parameters(resource: str, method: str) -> list[inspect.Parameter]:
    function = getattr(typing.get_type_hints(OGRecords)[resource], method)
    return [p for p in inspect.signature(function).parameters.values() if p.name not in _OPTIONS]


def _hints(resource: str, method: str) -> dict[str, Any]:
    function = getattr(typing.get_type_hints(OGRecords)[resource], method)
    return typing.get_type_hints(function)


def _members(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [member for member in typing.get_args(hint) if member not in (Unset, type(None))]
    return [hint]


def _convert(raw: str, hint: Any) -> object:
    """A command-line value as the SDK wants it: text for strings, a streamed file for uploads, else JSON (numbers,
    booleans, lists, objects) turned into the parameter's model when it has one."""
    members = _members(hint)
    if File in members:
        return file_from(raw)
    if str in members and not raw.lstrip().startswith(("[", "{")):
        return raw
    if datetime.datetime in members:
        return datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    for member in members:
        if typing.get_origin(member) is list and isinstance(value, list):
            (item,) = typing.get_args(member) or (Any,)
            if hasattr(item, "from_dict"):
                return [item.from_dict(entry) for entry in value]
            return value
        if hasattr(member, "from_dict") and isinstance(value, dict):
            return member.from_dict(value)
    return value


def _option(name: str) -> str:
    return "--" + name.removesuffix("_").replace("_", "-")


def _add_operation_parsers(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    for resource, methods in sorted(_operations().items()):
        resource_parser = subparsers.add_parser(
            resource.replace("_", "-"), help=f"{resource} operations", aliases=[resource] if "_" in resource else []
        )
        method_parsers = resource_parser.add_subparsers(dest="method", metavar="METHOD", required=True)
        for method, operation_id in sorted(methods.items()):
            function = getattr(typing.get_type_hints(OGRecords)[resource], method)
            summary = (inspect.getdoc(function) or operation_id).splitlines()[0]
            parser = method_parsers.add_parser(
                method.replace("_", "-"),
                help=summary,
                description=inspect.getdoc(function),
                aliases=[method] if "_" in method else [],
            )
            for parameter in _parameters(resource, method):
                required = (
                    parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
                    and parameter.default is inspect.Parameter.empty
                )
                what = "JSON object of the whole request body" if parameter.name == "body" else None
                parser.add_argument(
                    _option(parameter.name), dest=parameter.name, required=required, help=what, metavar="VALUE"
                )
            parser.set_defaults(handler=_run_operation, resource=resource, operation_method=method)


def _run_operation(args: argparse.Namespace) -> int:
    resource, method = args.resource, args.operation_method
    hints = _hints(resource, method)
    positional: list[object] = []
    keywords: dict[str, object] = {}
    for parameter in _parameters(resource, method):
        raw = getattr(args, parameter.name, None)
        if raw is None:
            continue
        value = _convert(raw, hints.get(parameter.name, str))
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            positional.append(value)
        else:
            keywords[parameter.name] = value
    with _client(args) as client:
        try:
            result = _bound_method(client, resource, method)(*positional, **keywords)
        except APIStatusError as error:
            print(json.dumps(error.problem or {"status": error.status}, indent=2), file=sys.stderr)
            return 1
        except (APIError, TypeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        _print_json(result)
    return 0


# --- login / logout ------------------------------------------------------------------------------------------------


def _login(args: argparse.Namespace) -> int:
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    if not api_key:
        # Piped (`echo $KEY | og-records login`) or typed without echo.
        prompt = "API key (og_test_… or og_live_…): "
        api_key = sys.stdin.readline() if not sys.stdin.isatty() else getpass.getpass(prompt)
    base_url = args.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    with OGRecords(api_key=api_key.strip(), base_url=base_url) as client:
        try:
            client.events.list(limit=1)  # proves the key works before it is stored
        except APIError as error:
            print(f"error: the key did not work: {error}", file=sys.stderr)
            return 1
        environment = client.environment
    path = write_config({**read_config(), "api_key": api_key.strip(), "base_url": base_url})
    print(f"Logged in ({environment}, {base_url}). The key is stored in {path} (readable by you only).")
    return 0


def _logout(_args: argparse.Namespace) -> int:
    config = read_config()
    config.pop("api_key", None)
    path = write_config(config)
    print(f"Removed the API key from {path}.")
    return 0


# --- listen --------------------------------------------------------------------------------------------------------


def _listen_secret(args: argparse.Namespace) -> str:
    """`--secret`, else the one stored at the first `listen` (stable, so a local receiver keeps its setting)."""
    if args.secret:
        return str(args.secret)
    config = read_config()
    if "listen_secret" not in config:
        config["listen_secret"] = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        write_config(config)
    return config["listen_secret"]


def _new_events(client: OGRecords, seen: set[str], event_types: set[str]) -> Iterator[dict[str, Any]]:
    """Events not forwarded yet, oldest first (the API lists newest first)."""
    page = client.events.with_raw_response.list(limit=100).json()
    fresh = [event for event in page.get("data", []) if event.get("id") not in seen]
    for event in reversed(fresh):
        seen.add(str(event["id"]))
        if not event_types or event.get("type") in event_types:
            yield event


def forward(http: httpx.Client, url: str, event: dict[str, Any], secret: str, extra_headers: dict[str, str]) -> int:
    """POSTs one event to the local URL, signed as the API signs deliveries (Standard Webhooks); its status."""
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    event_id = str(event["id"])
    headers = {
        "content-type": "application/json",
        "user-agent": "og-records-cli (listen)",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, secret=secret, msg_id=event_id, timestamp=timestamp),
        **extra_headers,
    }
    return http.post(url, content=body, headers=headers).status_code


def _listen(args: argparse.Namespace) -> int:
    secret = _listen_secret(args)
    event_types = {name.strip() for name in (args.events or "").split(",") if name.strip()}
    extra_headers = dict(header.split(":", 1) for header in args.header or [])
    forwarded = 0
    with _client(args) as client, httpx.Client(timeout=args.forward_timeout) as http:
        seen: set[str] = set()
        if not args.replay:
            list(_new_events(client, seen, set()))  # what happened before `listen` started is not forwarded
        print(f"> Ready! Forwarding {client.environment} events to {args.forward_to}", flush=True)
        print(f"> Your webhook signing secret is {secret} (^C to quit)", flush=True)
        try:
            while True:
                for event in _new_events(client, seen, event_types):
                    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
                    print(f"{stamp}   --> {event.get('type')} [{event['id']}]", flush=True)
                    try:
                        status = str(forward(http, args.forward_to, event, secret, extra_headers))
                    except httpx.HTTPError as error:
                        status = f"failed: {type(error).__name__}"
                    print(f"{stamp}  <--  [{status}] POST {args.forward_to} [{event['id']}]", flush=True)
                    forwarded += 1
                    if args.max_events and forwarded >= args.max_events:
                        return 0
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


# --- trigger -------------------------------------------------------------------------------------------------------


# What a trigger can act on: `--release-id` etc., sent as the body's `release_id` (the API's triggerSandboxEvent).
TRIGGER_RESOURCES = ("release_id", "payout_id", "person_id", "endpoint_id")


def _trigger(args: argparse.Namespace) -> int:
    """`POST /api/v1/sandbox/triggers` through the SDK (`client.sandbox.trigger`): the sandbox makes the event happen
    on a real resource (the one named, else one it picks) and the real event goes out."""
    with _client(args) as client:
        if client.environment != "sandbox":
            print("error: triggers exist in the sandbox only: use an og_test_ key", file=sys.stderr)
            return 1
        named = {name: getattr(args, name) for name in TRIGGER_RESOURCES if getattr(args, name)}
        try:
            # One idempotency key per command: a retried request (network error, 429) cannot trigger twice.
            result = client.sandbox.trigger(event=args.event, idempotency_key=secrets.token_hex(16), **named)
        except APIStatusError as error:
            print(json.dumps(error.problem or {"status": error.status}, indent=2), file=sys.stderr)
            return 1
        except APIError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    _print_json(result)
    return 0


# --- entry point ---------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="og-records",
        description="The OG Records developer CLI: every API operation, local webhook forwarding, sandbox triggers.",
    )
    parser.add_argument("--api-key", help=f"an API key (default: {API_KEY_ENV}, else the stored login)")
    parser.add_argument("--base-url", help=f"the API's base URL (default: {BASE_URL_ENV}, else {DEFAULT_BASE_URL})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    login = commands.add_parser("login", help=f"store an API key in the config file ({CONFIG_ENV} to move it)")
    login.set_defaults(handler=_login)
    commands.add_parser("logout", help="remove the stored API key").set_defaults(handler=_logout)

    listen = commands.add_parser("listen", help="forward your account's events to a local URL, signed")
    listen.add_argument("--forward-to", required=True, help="e.g. http://localhost:3000/webhooks")
    listen.add_argument("--events", help="comma-separated event types to forward (default: all)")
    listen.add_argument("--secret", help="the whsec_… secret to sign with (default: one stored for listen)")
    listen.add_argument("--header", action="append", help="an extra header for each forward, `Name: value`")
    listen.add_argument("--interval", type=float, default=2.0, help="seconds between polls of the events (2)")
    listen.add_argument("--forward-timeout", type=float, default=10.0, help="seconds a forward may take (10)")
    listen.add_argument("--replay", action="store_true", help="also forward the recent events from before the start")
    listen.add_argument("--max-events", type=int, default=0, help="stop after forwarding this many (0: never)")
    listen.set_defaults(handler=_listen)

    trigger = commands.add_parser("trigger", help="make a sandbox event happen (POST /api/v1/sandbox/triggers)")
    trigger.add_argument(
        "event", choices=typing.get_args(SandboxTriggerEvent), metavar="EVENT", help="one of: %(choices)s"
    )
    for name in TRIGGER_RESOURCES:
        trigger.add_argument(
            _option(name),
            dest=name,
            metavar=name.split("_")[0].upper() + "_ID",
            help=f"the {name.split('_')[0]} to act on",
        )
    trigger.set_defaults(handler=_trigger)

    _add_operation_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
