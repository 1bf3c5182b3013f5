"""Email verification: the link emailed at sign-up, and the dashboard's “send the link again” button.

Verification blocks nothing (sign-up and the sandbox work at once); until it is done every dashboard page shows a
notice with the resend button (`dashboard/layout.html`).
"""

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.db.models.accounts import User
from server.services import account_links
from server.services.web_sessions import Viewer
from server.web.dashboard.common import checked_form, forbidden, page, preferred_language, run, signed_in


async def verify(request: Request) -> Response:
    raw = str(request.path_params["token"])
    user = await run(lambda session: account_links.verify_email(session, raw))
    if user is None:
        response = page(
            request,
            "dashboard/link_message.html",
            status_code=410,
            title="Link expired",
            message="This verification link expired or was used already. "
            "Log in and send yourself a new one from the dashboard.",
            next_path="/dashboard",
            next_label="Go to the dashboard",
        )
    else:
        response = page(
            request,
            "dashboard/link_message.html",
            title="Email address confirmed",
            message=f"Thank you: {user.email} is confirmed.",
            next_path="/dashboard",
            next_label="Go to the dashboard",
        )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@signed_in
async def resend(request: Request, viewer: Viewer) -> Response:
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    if viewer.user.email_verified_at is not None:
        message = f"{viewer.user.email} is confirmed already."
    else:
        lang = preferred_language(request)

        def send(session: Session) -> None:
            user = session.get(User, viewer.user.id)
            if user is not None:
                account_links.send_verification(session, user, lang)

        await run(send)
        message = f"We sent a new confirmation link to {viewer.user.email}. Earlier links no longer work."
    return page(
        request,
        "dashboard/link_message.html",
        title="Check your email",
        message=message,
        next_path="/dashboard",
        next_label="Back to the dashboard",
    )


ROUTES = {
    "/verify-email/{token}": (["GET"], verify),
    "/dashboard/verify-email": (["POST"], resend),
}
