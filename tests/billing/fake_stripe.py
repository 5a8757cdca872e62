"""A fake Stripe API on loopback for the billing tests.

A threaded HTTP server on an ephemeral port that stores Stripe-shaped objects and answers
the calls our code and dj-stripe make (customers, products, prices, Checkout and portal
sessions, subscriptions and their items, schedules, invoices, payment intents, charges,
disputes, events, webhook endpoints, the account). It records every request (method,
path, query and form body) so tests can inspect what was sent. The ``FakeStripe`` methods
play Stripe's part (a customer pays, a renewal is charged, a refund is made) and build the
events, which the tests sign with a real ``Stripe-Signature`` and post to our endpoint.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dateutil.relativedelta import relativedelta
from django.utils import timezone

API_VERSION = "2026-08-26.dahlia"
ACCOUNT_ID = "acct_fake0000000001"

# URL collection -> Stripe object name and id prefix
COLLECTIONS = {
    "customers": ("customer", "cus"),
    "products": ("product", "prod"),
    "prices": ("price", "price"),
    "checkout/sessions": ("checkout.session", "cs_test"),
    "billing_portal/sessions": ("billing_portal.session", "bps"),
    "subscriptions": ("subscription", "sub"),
    "subscription_items": ("subscription_item", "si"),
    "subscription_schedules": ("subscription_schedule", "sub_sched"),
    "invoices": ("invoice", "in"),
    "payment_intents": ("payment_intent", "pi"),
    "charges": ("charge", "ch"),
    "disputes": ("dispute", "dp"),
    "events": ("event", "evt"),
    "webhook_endpoints": ("webhook_endpoint", "we"),
    "refunds": ("refund", "re"),
}


def _set_nested(target: dict, keys: list[str], value: str) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(k.isdigit() or k == "" for k in value):
            return [_listify(value[k]) for k in sorted(value, key=lambda k: int(k) if k.isdigit() else 0)]
        return {k: _listify(v) for k, v in value.items()}
    return value


def parse_form(body: str) -> dict:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    result: dict = {}
    counters: dict[str, itertools.count] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = [raw_key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", raw_key)]
        # ``expand[]=a&expand[]=b``: give empty brackets running indexes.
        fixed = []
        for j, part in enumerate(parts):
            if part == "" and j > 0:
                prefix = "/".join(fixed)
                counters.setdefault(prefix, itertools.count())
                part = str(next(counters[prefix]))
            fixed.append(part)
        _set_nested(result, fixed, value)
    return _listify(result)


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if re.fullmatch(r"-?\d+", value) and len(value) < 15:
            return int(value)
    if isinstance(value, dict):
        return {k: (v if k == "metadata" else _coerce(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce(v) for v in value]
    return value


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    headers: dict


@dataclass
class FakeStripe:
    """The fake's state; ``base_url`` once started."""

    objects: dict[str, dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""
    server: ThreadingHTTPServer | None = None
    # While set, every request is answered with this (status, raw body): Stripe failing.
    failing: tuple[int, str] | None = None

    # --- storage ------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.counter):014d}"

    def put(self, obj: dict) -> dict:
        with self.lock:
            self.objects[obj["id"]] = obj
        return obj

    def get(self, object_id: str) -> dict:
        return self.objects[object_id]

    def create(self, collection: str, params: dict, **fields: Any) -> dict:
        name, prefix = COLLECTIONS[collection]
        obj = {
            "id": params.pop("id", None) or self.new_id(prefix),
            "object": name,
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
        }
        obj.update(_coerce({k: v for k, v in params.items() if k not in ("expand",)}))
        obj["metadata"] = dict(params.get("metadata") or {})
        obj.update(fields)
        return self.put(obj)

    def expand(self, obj: Any, paths: list[str]) -> Any:
        obj = copy.deepcopy(obj)
        for path in paths:
            obj = self._expand_path(obj, path.split("."))
        return obj

    def _expand_path(self, obj: Any, parts: list[str]) -> Any:
        if not parts or obj is None:
            return obj
        key, rest = parts[0], parts[1:]
        if isinstance(obj, list):
            return [self._expand_path(o, parts) for o in obj]
        if not isinstance(obj, dict) or key not in obj:
            return obj
        value = obj[key]
        if isinstance(value, str) and value in self.objects and not rest:
            obj[key] = copy.deepcopy(self.objects[value])
        elif isinstance(value, str) and value in self.objects:
            obj[key] = self._expand_path(copy.deepcopy(self.objects[value]), rest)
        else:
            obj[key] = self._expand_path(value, rest) if rest else value
        return obj

    # --- HTTP -----------------------------------------------------------------------------
    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                params = parse_form(body if method == "POST" else url.query)
                fake.requests.append(Recorded(method, url.path, params, dict(self.headers)))
                if fake.failing is not None:
                    status, raw = fake.failing
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if raw.startswith("{") else "text/html")
                    self.send_header("Content-Length", str(len(raw.encode())))
                    self.end_headers()
                    self.wfile.write(raw.encode())
                    return
                try:
                    status, answer = fake.route(method, url.path, params)
                except KeyError as exc:
                    status, answer = (
                        404,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "resource_missing",
                                "message": f"No such object: {exc}",
                            }
                        },
                    )
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.put(
            {
                "id": ACCOUNT_ID,
                "object": "account",
                "type": "standard",
                "email": "billing@example.com",
                "country": "US",
                "default_currency": "usd",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "business_profile": {"name": "Creator Analytics"},
                "settings": {"dashboard": {"display_name": "Creator Analytics"}},
                "metadata": {},
                "created": int(time.time()),
            }
        )
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        path = path.removeprefix("/v1/")
        expand = params.pop("expand", []) or []
        with self.lock:
            if path == "account":
                return 200, self.objects[ACCOUNT_ID]
            for collection in sorted(COLLECTIONS, key=len, reverse=True):
                if path == collection:
                    if method == "POST":
                        return 200, self.expand(self.create_object(collection, params), expand)
                    return 200, self.list_objects(collection, params, expand)
                if path.startswith(collection + "/"):
                    rest = path[len(collection) + 1 :].split("/")
                    obj = self.objects[rest[0]]
                    if obj["object"] != COLLECTIONS[collection][0]:
                        raise KeyError(rest[0])
                    if len(rest) == 2 and rest[1] == "release":
                        obj = self.release_schedule(obj)
                    elif len(rest) == 2 and rest[1] == "expire":  # checkout sessions
                        if obj["status"] != "open":
                            return 400, {"error": {"type": "invalid_request_error", "message": "not open"}}
                        obj["status"] = "expired"
                    elif len(rest) == 2 and rest[1] == "line_items":
                        return 200, {"object": "list", "data": obj["line_items"], "has_more": False}
                    elif len(rest) == 2:  # features, tax ids, ...: nothing in this fake
                        return 200, {"object": "list", "url": path, "data": [], "has_more": False}
                    elif method == "POST":
                        obj = self.update_object(collection, obj, params)
                    return 200, self.expand(obj, expand)
        raise KeyError(path)

    def list_objects(self, collection: str, params: dict, expand: list[str]) -> dict:
        name = COLLECTIONS[collection][0]
        found = [o for o in self.objects.values() if o["object"] == name]
        if "lookup_keys" in params:
            found = [o for o in found if o.get("lookup_key") in params["lookup_keys"]]
        if "active" in params:
            found = [o for o in found if o.get("active", True) == (params["active"] == "true")]
        if "customer" in params:
            found = [o for o in found if o.get("customer") == params["customer"]]
        found.sort(key=lambda o: o["id"], reverse=True)
        limit = int(params.get("limit") or 10)
        return {
            "object": "list",
            "url": f"/v1/{collection}",
            "has_more": len(found) > limit,
            "data": [self.expand(o, [p.removeprefix("data.") for p in expand]) for o in found[:limit]],
        }

    # --- object behaviour ---------------------------------------------------------------
    def create_object(self, collection: str, params: dict) -> dict:
        if collection == "products":
            return self.create(collection, params, active=True, type="service", images=[], url=None)
        if collection == "prices":
            params.pop("transfer_lookup_key", None)
            if params.get("lookup_key"):
                for other in self.objects.values():
                    if other["object"] == "price" and other.get("lookup_key") == params["lookup_key"]:
                        other["lookup_key"] = None
            recurring = params.get("recurring")
            if recurring:
                recurring = {
                    "interval": recurring["interval"],
                    "interval_count": 1,
                    "usage_type": "licensed",
                    "aggregate_usage": None,
                    "trial_period_days": None,
                    "meter": None,
                }
            return self.create(
                collection,
                params,
                active=True,
                type="recurring" if recurring else "one_time",
                recurring=recurring,
                billing_scheme="per_unit",
                tax_behavior="unspecified",
                nickname=None,
                unit_amount_decimal=str(params["unit_amount"]),
                tiers_mode=None,
                transform_quantity=None,
                custom_unit_amount=None,
            )
        if collection == "customers":
            return self.create(
                collection,
                params,
                balance=0,
                currency=None,
                delinquent=False,
                default_source=None,
                invoice_prefix="FAKE",
                invoice_settings={"default_payment_method": None, "custom_fields": None, "footer": None},
                preferred_locales=[],
                tax_exempt="none",
                discount=None,
                address=None,
                shipping=None,
                phone=None,
            )
        if collection == "checkout/sessions":
            price = self.objects[params["line_items"][0]["price"]]
            line_items = [
                {
                    "id": self.new_id("li"),
                    "object": "item",
                    "price": copy.deepcopy(price),
                    "quantity": 1,
                    "amount_total": price["unit_amount"],
                }
            ]
            return self.create(
                collection,
                params,
                status="open",
                payment_status="unpaid",
                amount_total=price["unit_amount"],
                amount_subtotal=price["unit_amount"],
                currency="usd",
                url=f"https://checkout.stripe.test/c/pay/{self.new_id('x')}",
                subscription=None,
                payment_intent=None,
                line_items=line_items,
                expires_at=int(time.time()) + 86400,
                locale=None,
                customer_email=None,
                submit_type=None,
                billing_address_collection=None,
                shipping_address_collection=None,
                payment_method_types=["card"],
            )
        if collection == "billing_portal/sessions":
            return self.create(collection, params, url=f"https://billing.stripe.test/p/session/{self.new_id('x')}")
        if collection == "subscription_schedules":
            sub = self.objects[params["from_subscription"]]
            item = sub["items"]["data"][0]
            schedule = self.create(
                collection,
                {},
                subscription=sub["id"],
                customer=sub["customer"],
                status="active",
                end_behavior="release",
                phases=[
                    {
                        "items": [{"price": item["price"]["id"], "quantity": 1}],
                        "start_date": item["current_period_start"],
                        "end_date": item["current_period_end"],
                    }
                ],
            )
            sub["schedule"] = schedule["id"]
            return schedule
        if collection == "webhook_endpoints":
            return self.create(
                collection,
                params,
                status="enabled",
                secret="whsec_" + hashlib.sha256(str(time.time()).encode()).hexdigest()[:32],
                application=None,
                description=None,
            )
        raise KeyError(collection)

    def update_object(self, collection: str, obj: dict, params: dict) -> dict:
        if collection == "subscriptions":
            if "cancel_at_period_end" in params:
                obj["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
            if "items" in params:
                change = params["items"][0]
                item = next(i for i in obj["items"]["data"] if i["id"] == change["id"])
                old = item["price"]
                item["price"] = copy.deepcopy(self.objects[change["price"]])
                if params.get("proration_behavior") == "always_invoice":
                    self.invoice_for(
                        obj, reason="subscription_update", amount=item["price"]["unit_amount"] - old["unit_amount"]
                    )
            return obj
        if collection == "subscription_schedules":
            obj["phases"] = _coerce(params.get("phases", obj["phases"]))
            obj["end_behavior"] = params.get("end_behavior", obj["end_behavior"])
            return obj
        obj.update(_coerce({k: v for k, v in params.items() if k != "metadata"}))
        if "metadata" in params:
            obj["metadata"] = {**obj.get("metadata", {}), **params["metadata"]}
        return obj

    def release_schedule(self, schedule: dict) -> dict:
        schedule["status"] = "released"
        sub = self.objects[schedule["subscription"]]
        sub["schedule"] = None
        return schedule

    # --- Stripe's side of a payment ---------------------------------------------------------
    def _charge(self, *, customer: str, amount: int, metadata: dict | None = None) -> tuple[dict, dict]:
        intent = self.create(
            "payment_intents", {}, amount=amount, currency="usd", customer=customer, status="succeeded"
        )
        intent["metadata"] = dict(metadata or {})
        charge = self.create(
            "charges",
            {},
            amount=amount,
            amount_captured=amount,
            amount_refunded=0,
            currency="usd",
            customer=customer,
            payment_intent=intent["id"],
            paid=True,
            captured=True,
            refunded=False,
            status="succeeded",
            disputed=False,
        )
        charge["metadata"] = dict(metadata or {})
        intent["latest_charge"] = charge["id"]
        return intent, charge

    def invoice_for(self, sub: dict, *, reason: str, amount: int, paid: bool = True) -> dict:
        item = sub["items"]["data"][0]
        intent, charge = self._charge(customer=sub["customer"], amount=amount) if paid else ({"id": None}, {"id": None})
        number = next(self.counter)
        return self.create(
            "invoices",
            {},
            customer=sub["customer"],
            status="paid" if paid else "open",
            billing_reason=reason,
            amount_due=amount,
            amount_paid=amount if paid else 0,
            amount_remaining=0 if paid else amount,
            currency="usd",
            number=f"FAKE-{number:04d}",
            hosted_invoice_url=f"https://invoice.stripe.test/i/{number}",
            invoice_pdf=f"https://invoice.stripe.test/i/{number}/pdf",
            attempt_count=1,
            parent={"type": "subscription_details", "subscription_details": {"subscription": sub["id"]}},
            lines={
                "object": "list",
                "has_more": False,
                "data": [
                    {
                        "id": self.new_id("il"),
                        "object": "line_item",
                        "amount": amount,
                        "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
                    }
                ],
            },
            period_start=item["current_period_start"],
            period_end=item["current_period_end"],
            payments={"data": [{"payment": {"payment_intent": intent["id"]}}]},
            charge=charge["id"],
        )

    def pay_checkout(self, session_id: str, *, start: Any = None) -> dict:
        """The customer pays: a top-up gets a charge, a plan gets a subscription and its first invoice."""
        session = self.objects[session_id]
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}: it cannot be paid")
        session["status"], session["payment_status"] = "complete", "paid"
        out: dict[str, Any] = {"session": session}
        if session["mode"] == "payment":
            intent, charge = self._charge(
                customer=session["customer"], amount=session["amount_total"], metadata=session["metadata"]
            )
            session["payment_intent"] = intent["id"]
            out.update(payment_intent=intent, charge=charge)
            return out
        price = session["line_items"][0]["price"]
        start = start or timezone.now().replace(microsecond=0)
        end = start + relativedelta(months=1 if price["recurring"]["interval"] == "month" else 12)
        sub_id = self.new_id("sub")
        item = self.create(
            "subscription_items",
            {},
            price=copy.deepcopy(price),
            quantity=1,
            subscription=sub_id,
            current_period_start=int(start.timestamp()),
            current_period_end=int(end.timestamp()),
        )
        sub = self.create(
            "subscriptions",
            {"id": sub_id},
            customer=session["customer"],
            status="active",
            items={"object": "list", "has_more": False, "data": [item]},
            cancel_at_period_end=False,
            cancel_at=None,
            canceled_at=None,
            ended_at=None,
            schedule=None,
            billing_cycle_anchor=int(start.timestamp()),
            start_date=int(start.timestamp()),
            collection_method="charge_automatically",
            currency="usd",
        )
        sub["metadata"] = dict(session.get("metadata") or {})
        session["subscription"] = sub["id"]
        out.update(
            subscription=sub, invoice=self.invoice_for(sub, reason="subscription_create", amount=price["unit_amount"])
        )
        return out

    def renew(self, sub_id: str, *, paid: bool = True) -> dict:
        """The period ends: the next one starts and its invoice is paid (or fails: past_due)."""
        sub = self.objects[sub_id]
        item = sub["items"]["data"][0]
        interval = item["price"]["recurring"]["interval"]
        start = item["current_period_end"]
        end = int(
            (datetime.fromtimestamp(start, tz=UTC) + relativedelta(months=1 if interval == "month" else 12)).timestamp()
        )
        item["current_period_start"], item["current_period_end"] = start, end
        sub["status"] = "active" if paid else "past_due"
        return self.invoice_for(sub, reason="subscription_cycle", amount=item["price"]["unit_amount"], paid=paid)

    def end_subscription(self, sub_id: str) -> dict:
        sub = self.objects[sub_id]
        sub["status"], sub["ended_at"], sub["canceled_at"] = "canceled", int(time.time()), int(time.time())
        return sub

    def refund(self, charge_id: str, amount: int | None = None) -> dict:
        charge = self.objects[charge_id]
        charge["amount_refunded"] = amount if amount is not None else charge["amount"]
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return charge

    def dispute(self, charge_id: str) -> dict:
        charge = self.objects[charge_id]
        charge["disputed"] = True
        return self.create(
            "disputes",
            {},
            charge=charge_id,
            amount=charge["amount"],
            currency="usd",
            reason="fraudulent",
            status="needs_response",
            balance_transactions=[],
            evidence={},
            is_charge_refundable=False,
            payment_intent=charge["payment_intent"],
        )

    # --- events and signatures ----------------------------------------------------------
    def event(self, event_type: str, object_id: str) -> dict:
        obj = copy.deepcopy(self.objects[object_id])
        return self.create(
            "events",
            {},
            type=event_type,
            api_version=API_VERSION,
            data={"object": obj, "previous_attributes": {}},
            pending_webhooks=1,
            request={"id": None, "idempotency_key": None},
        )


def sign(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe makes it (HMAC-SHA256 of ``t.payload``)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
