"""The bot's GraphQL client: one method per question the conversation asks, typed answers.

Every request carries the bot's token and names the Telegram user the bot acts for, so the
API applies that staff member's role and ownership rules. Failures become three exceptions
a handler can answer in plain words: the API is unreachable, the user is not staff, or the
API answered something unexpected.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from bot import documents as doc
from bot.results import (
    Candidate,
    Card,
    Consent,
    Funnel,
    History,
    Match,
    OfferTerms,
    Product,
    ReferralRefused,
    ReferralSent,
    RunView,
    ScoreView,
    StaffMember,
    SuggestionItem,
    SystemView,
    WakeUpFacts,
    parse_consents,
    parse_referral,
)

ACT_AS_HEADER = "X-Act-As-Telegram-User"
log = logging.getLogger(__name__)


class ApiFailure(Exception):
    """The API could not answer the question."""


class ApiUnavailable(ApiFailure):
    """The API is down, too slow, or overloaded: worth trying again in a minute."""


class NotStaff(ApiFailure):
    """The API refuses to act for this Telegram user: no active staff member is linked."""


class ApiError(ApiFailure):
    """The API answered with an error the bot did not expect (logged with its error id)."""


class Problem(ApiFailure):
    """An expected refusal (not found, forbidden, conflict), with the API's words and kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class ApiClient:
    """Sends GraphQL documents to the API; one instance (and connection pool) per bot."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
        )
        self._url = url

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, act_as: int | None
    ) -> dict[str, Any]:
        """The `data` of a GraphQL answer, or one of the ApiFailure exceptions."""
        headers = {ACT_AS_HEADER: str(act_as)} if act_as is not None else {}
        try:
            response = await self._http.post(
                self._url, json={"query": document, "variables": variables or {}}, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(f"the API did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ApiUnavailable(f"the API is unreachable ({type(exc).__name__})") from exc
        if response.status_code == 403 and act_as is not None:
            raise NotStaff("the API acts for no active staff member with this Telegram id")
        if response.status_code >= 500 or response.status_code == 429:
            raise ApiUnavailable(f"the API answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ApiUnavailable(f"the API answered non-JSON ({response.status_code})") from exc
        errors = body.get("errors") if isinstance(body, dict) else None
        if response.status_code != 200 or errors:
            first = (errors or [{}])[0]
            code = (first.get("extensions") or {}).get("code", "")
            if code == "FORBIDDEN":
                raise Problem("Forbidden", first.get("message", ""))
            raise ApiError(
                f"HTTP {response.status_code}, {code or 'error'}: {first.get('message', '')}"
            )
        data: dict[str, Any] = body["data"]
        return data

    # --- who is chatting -------------------------------------------------------------

    async def me(self, actor: int) -> StaffMember:
        """The staff member linked to this Telegram user, or NotStaff."""
        data = await self.execute(doc.ME, act_as=actor)
        if data["me"] is None:
            raise NotStaff("the API knows no staff member for this Telegram user")
        return StaffMember.parse(data["me"])

    async def link_telegram(self, code: str, telegram_user_id: int, key: str) -> StaffMember:
        """Link this Telegram user to the staff member holding the one-time code."""
        variables = {"code": code, "telegramUserId": telegram_user_id, "key": key}
        result = (await self.execute(doc.LINK_TELEGRAM, variables, act_as=None))["linkTelegram"]
        _raise_problem(result, "TelegramLinked")
        return StaffMember.parse(result["staff"])

    # --- customers ---------------------------------------------------------------------

    async def find(self, actor: int, text: str, first: int) -> list[Match]:
        """Customers matching a name, email, phone or external id (and id, for digits)."""
        variables: dict[str, Any] = {"search": text, "first": first}
        if text.isdigit():
            data = await self.execute(doc.FIND_WITH_ID, {**variables, "id": text}, act_as=actor)
        else:
            data = await self.execute(doc.FIND, variables, act_as=actor)
        page = data["customers"]
        _raise_problem(page, "CustomerConnection")
        found = [Match.parse(edge["node"]) for edge in page["edges"]]
        by_id = data.get("byId") or {}
        if by_id.get("__typename") == "Customer":
            exact = Match.parse(by_id)
            found = [exact, *(m for m in found if m.id != exact.id)]
        return found[:first]

    async def card(self, actor: int, customer_id: str, language: str | None = None) -> Card:
        """The customer card, its reasons in `language`."""
        variables = {"id": customer_id, "language": language}
        customer = (await self.execute(doc.CARD, variables, act_as=actor))["customer"]
        _raise_problem(customer, "Customer")
        return Card.parse(customer)

    async def history(self, actor: int, customer_id: str) -> History:
        """The customer's stage history and latest orders."""
        data = await self.execute(doc.HISTORY, {"id": customer_id}, act_as=actor)
        _raise_problem(data["customer"], "Customer")
        return History.parse(data["customer"])

    async def cross_sell(
        self, actor: int, customer_id: str
    ) -> tuple[Match, ScoreView | None, list[Product]]:
        """The customer, their next order date and the products they are likely to buy."""
        data = await self.execute(doc.CROSS_SELL, {"id": customer_id}, act_as=actor)
        customer = data["customer"]
        _raise_problem(customer, "Customer")
        match = Match(customer["id"], customer.get("name"), None, None, customer["stage"])
        return (
            match,
            ScoreView.parse(customer.get("score")),
            [Product.parse(item) for item in data["crossSell"]],
        )

    async def reactivation_plan(
        self, actor: int, customer_id: str, language: str | None = None
    ) -> tuple[WakeUpFacts, list[OfferTerms]]:
        """What speaks for waking this customer (in `language`), and the reactivation offers."""
        variables = {"id": customer_id, "language": language}
        data = await self.execute(doc.REACTIVATION_PLAN, variables, act_as=actor)
        _raise_problem(data["customer"], "Customer")
        return (
            WakeUpFacts.parse(data["customer"]),
            [OfferTerms.parse(o) for o in data["offers"]],
        )

    async def reactivation_candidates(
        self, actor: int, first: int, offset: int = 0, language: str | None = None
    ) -> list[Candidate]:
        """The actor's sleeping customers most worth waking, best first, from `offset`."""
        variables = {"first": first, "offset": offset, "language": language}
        data = await self.execute(doc.REACTIVATION_CANDIDATES, variables, act_as=actor)
        return [Candidate.parse(item) for item in data["reactivationCandidates"]]

    # --- suggestions -------------------------------------------------------------------

    async def suggestions(
        self, actor: int, first: int, offset: int, language: str | None = None
    ) -> list[SuggestionItem]:
        """The caller's open suggestions, highest priority first, their reasons in `language`."""
        variables = {"first": first, "offset": offset, "language": language}
        data = await self.execute(doc.SUGGESTIONS, variables, act_as=actor)
        return [SuggestionItem.parse(item) for item in data["mySuggestions"]]

    async def resolve_suggestion(
        self, actor: int, suggestion_id: str, accept: bool, key: str
    ) -> None:
        """Accept or dismiss a suggestion (once per key); Problem when that is not possible."""
        document = doc.ACCEPT_SUGGESTION if accept else doc.DISMISS_SUGGESTION
        field = "acceptSuggestion" if accept else "dismissSuggestion"
        data = await self.execute(document, {"id": suggestion_id, "key": key}, act_as=actor)
        _raise_problem(data[field], "SuggestionResolved")

    # --- referrals ---------------------------------------------------------------------

    async def referral_dialog(
        self, actor: int, customer_id: str
    ) -> tuple[Match, tuple[Consent, ...], list[OfferTerms]]:
        """The customer, their consents and the active referral offers."""
        data = await self.execute(doc.REFERRAL_DIALOG, {"id": customer_id}, act_as=actor)
        customer = data["customer"]
        _raise_problem(customer, "Customer")
        match = Match(str(customer["id"]), customer.get("name"), None, None, customer["stage"])
        offers = [OfferTerms.parse(o) for o in data["offers"]]
        return match, parse_consents(customer.get("consents")), offers

    async def trigger_referral(
        self, actor: int, customer_id: str, offer_id: str, channel: str, key: str
    ) -> ReferralSent | ReferralRefused:
        """Send the member-get-member offer once per key; a refusal says why not."""
        variables = {"customerId": customer_id, "offerId": offer_id, "channel": channel}
        data = await self.execute(doc.TRIGGER_REFERRAL, {**variables, "key": key}, act_as=actor)
        return parse_referral(data["triggerReferralOffer"])

    # --- reports and admin -------------------------------------------------------------

    async def funnel(self, actor: int, start: datetime) -> Funnel:
        """Customers per stage now and the moves since `start`."""
        data = await self.execute(doc.FUNNEL, {"from": start.isoformat()}, act_as=actor)
        return Funnel.parse(data["lifecycleFunnel"])

    async def enqueue_scoring_run(self, actor: int, key: str) -> RunView:
        """Queue a scoring run (admin)."""
        result = (await self.execute(doc.ENQUEUE_SCORING, {"key": key}, act_as=actor))[
            "enqueueScoringRun"
        ]
        _raise_problem(result, "ScoringRunQueued")
        return RunView.parse(result["run"])

    async def scoring_run(self, actor: int, run_id: str) -> RunView | None:
        """A scoring run's progress."""
        data = await self.execute(doc.SCORING_RUN, {"id": run_id}, act_as=actor)
        return RunView.parse(data["scoringRun"]) if data["scoringRun"] else None

    async def system_status(self, actor: int) -> SystemView:
        """The latest scoring runs (newest first), queue depths and the outbox backlog."""
        data = await self.execute(doc.STATUS, act_as=actor)
        return SystemView.parse(data)


def _raise_problem(result: dict[str, Any], expected: str) -> None:
    """Raise Problem unless the union member is the expected one."""
    kind = result.get("__typename", "")
    if kind != expected:
        raise Problem(kind, result.get("message") or kind)
