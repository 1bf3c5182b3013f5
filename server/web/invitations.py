"""The invitation page a payee reaches from their invitation email: `GET /invitations/{token}` shows the inviting
account and every share offered; one form per share posts Accept or Decline (`POST /invitations/{token}`), with a
CSRF token and no JavaScript. In production the first acceptance also asks for the account holder and IBAN.

The link rules (signed, hashed at rest, expiring, spent once every share is answered) are in
`server.services.invitations`; this module is HTTP in, HTML out.
"""

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.mail import compose
from server.problems import DomainError
from server.services import invitations
from server.web import csrf, pages

TEXT = {
    "en": {
        "title": "Your royalty shares",
        "intro": "{account} invites you to receive royalty shares through OG Records. Accept or decline each one.",
        "release": "Release",
        "track": "Track",
        "role": "Role",
        "share": "Share",
        "from": "From",
        "status": "Your answer",
        "pending": "Open",
        "accepted": "Accepted",
        "declined": "Declined",
        "accept": "Accept",
        "decline": "Decline",
        "none": "No shares are offered to you yet. This link stays valid until {expires}.",
        "payout_legend": "Where your money goes",
        "payout_help": "Needed once, before your first acceptance. Stored encrypted.",
        "holder": "Account holder",
        "iban": "IBAN",
        "expires": "This link works until {expires}.",
        "held": "Until you accept, your part of the earnings is held for you, never lost.",
        "done_title": "Thank you",
        "done": "You answered every share {account} offered you. This link cannot be used again.",
        "unknown_title": "This link is not valid",
        "unknown": "This invitation link is unknown or was replaced by a newer one. Ask whoever invited you to send a "
        "new invitation.",
        "expired_title": "This link has expired",
        "expired": "Invitation links work for 14 days. Ask whoever invited you to send a new invitation.",
        "used_title": "This link was already used",
        "used": "Every share offered with this link has been answered, so it cannot be used again. Ask whoever "
        "invited you to send a new invitation if something changed.",
        "csrf_title": "Please try again",
        "csrf": "Your form expired. Open the invitation link again and repeat your answer.",
        "error": "Please correct the highlighted fields.",
    },
    "de": {
        "title": "Ihre Tantiemenanteile",
        "intro": "{account} lädt Sie ein, über OG Records Tantiemenanteile zu erhalten. Nehmen Sie jeden Anteil an "
        "oder lehnen Sie ihn ab.",
        "release": "Release",
        "track": "Titel",
        "role": "Rolle",
        "share": "Anteil",
        "from": "Ab",
        "status": "Ihre Antwort",
        "pending": "Offen",
        "accepted": "Angenommen",
        "declined": "Abgelehnt",
        "accept": "Annehmen",
        "decline": "Ablehnen",
        "none": "Ihnen sind noch keine Anteile angeboten. Dieser Link gilt bis {expires}.",
        "payout_legend": "Wohin Ihr Geld geht",
        "payout_help": "Einmal nötig, vor Ihrer ersten Annahme. Verschlüsselt gespeichert.",
        "holder": "Kontoinhaber",
        "iban": "IBAN",
        "expires": "Dieser Link gilt bis {expires}.",
        "held": "Bis Sie annehmen, wird Ihr Teil der Einnahmen für Sie zurückgehalten, nie verloren.",
        "done_title": "Vielen Dank",
        "done": "Sie haben jeden Anteil beantwortet, den {account} Ihnen angeboten hat. Dieser Link kann nicht noch "
        "einmal verwendet werden.",
        "unknown_title": "Dieser Link ist ungültig",
        "unknown": "Dieser Einladungslink ist unbekannt oder wurde durch einen neueren ersetzt. Bitten Sie, wer Sie "
        "eingeladen hat, um eine neue Einladung.",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired": "Einladungslinks gelten 14 Tage. Bitten Sie, wer Sie eingeladen hat, um eine neue Einladung.",
        "used_title": "Dieser Link wurde bereits verwendet",
        "used": "Jeder mit diesem Link angebotene Anteil ist beantwortet, daher kann er nicht noch einmal verwendet "
        "werden. Bitten Sie um eine neue Einladung, falls sich etwas geändert hat.",
        "csrf_title": "Bitte noch einmal",
        "csrf": "Ihr Formular ist abgelaufen. Öffnen Sie den Einladungslink erneut und wiederholen Sie Ihre Antwort.",
        "error": "Bitte korrigieren Sie die markierten Felder.",
    },
}
# Expired and used links are gone for good (410); unknown ones were never there (404).
_UNAVAILABLE_STATUS = {"unknown": 404, "expired": 410, "used": 410}


@dataclass
class _View:
    """What a page shows, read inside the transaction."""

    template: str
    status: int
    context: dict[str, Any]


def _unavailable(reason: str, lang: str = "en") -> _View:
    text = TEXT[lang]
    return _View(
        "invitations/unavailable.html",
        _UNAVAILABLE_STATUS[reason],
        {"t": text, "lang": lang, "title": text[f"{reason}_title"], "message": text[reason]},
    )


def _page(session: Any, person: Any, token: str, *, errors: dict[str, str] | None = None) -> _View:
    lang = compose.language(person.language)
    text = TEXT[lang]
    account = session.get(Account, person.account_id)
    offered = invitations.offered_shares(session, person)
    expires = compose.day(person.invitation_expires_at, lang)
    rows = [
        {
            "id": item.share.id,
            "target": f"{text[item.kind]} “{item.title}”",
            "role": item.share.role.replace("_", " "),
            "percent": compose.percent(item.share.share_bps),
            "effective_from": compose.day(item.split.effective_from, lang),
            "status": item.share.acceptance_status,
        }
        for item in offered
    ]
    return _View(
        "invitations/invitation.html",
        422 if errors else 200,
        {
            "t": text,
            "lang": lang,
            "title": text["title"],
            "account": account.name if account else "",
            "person": person.name,
            "shares": rows,
            "expires": expires,
            "token": token,
            "ask_payout": invitations.needs_payout_details(person),
            "errors": errors or {},
        },
    )


def _show(token: str) -> _View:
    with session_scope() as session:
        try:
            person = invitations.resolve(session, token)
        except invitations.InvitationUnavailableError as exc:
            return _unavailable(exc.reason)
        return _page(session, person, token)


def _answer(token: str, form: dict[str, str]) -> _View:
    with session_scope() as session:
        try:
            person = invitations.resolve(session, token, for_update=True)
        except invitations.InvitationUnavailableError as exc:
            return _unavailable(exc.reason)
        lang = compose.language(person.language)
        offered = {str(item.share.id): item for item in invitations.offered_shares(session, person)}
        item = offered.get(form.get("share", ""))
        accepted = form.get("answer") == "accept"
        if item is None or form.get("answer") not in {"accept", "decline"}:
            return _page(session, person, token)  # a stale or tampered form: show the current state
        if item.share.acceptance_status != "pending":
            return _page(session, person, token)  # answered already (a double submit)
        if accepted and invitations.needs_payout_details(person):
            try:
                invitations.set_payout_details(person, form.get("account_holder", ""), form.get("iban", ""))
            except DomainError as problem:
                errors = {error.pointer.strip("/"): error.detail for error in problem.errors}
                session.rollback()
                return _page(session, person, token, errors=errors)
        try:
            invitations.answer(session, person, item.share, accepted)
        except DomainError:
            # Answered meanwhile (a double submit racing this one) or its split was replaced: show what holds now.
            session.rollback()
            return _page(session, person, token)
        if invitations.finish_if_answered(session, person):
            account = session.get(Account, person.account_id)
            text = TEXT[lang]
            return _View(
                "invitations/done.html",
                200,
                {"t": text, "lang": lang, "title": text["done_title"], "account": account.name if account else ""},
            )
        return _page(session, person, token)


async def invitation_page(request: Request) -> Response:
    token = str(request.path_params["token"])
    if request.method == "POST":
        form = {key: str(value) for key, value in (await request.form()).items()}
        if not csrf.valid(request, form.get(csrf.FIELD)):
            view = _View(
                "invitations/unavailable.html",
                403,
                {"t": TEXT["en"], "lang": "en", "title": TEXT["en"]["csrf_title"], "message": TEXT["en"]["csrf"]},
            )
        else:
            view = await run_in_threadpool(_answer, token, form)
    else:
        view = await run_in_threadpool(_show, token)
    csrf_token = csrf.token(request)
    response = pages.render(
        view.template,
        status_code=view.status,
        # The token is in the path: never send it on in a Referer.
        headers={"Referrer-Policy": "no-referrer"},
        csrf_token=csrf_token,
        **view.context,
    )
    return csrf.attach(request, response, csrf_token)


ROUTES = {"/invitations/{token}": (["GET", "POST"], invitation_page)}
