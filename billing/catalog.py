"""The catalogue in Stripe: one Product per plan and per top-up package, Prices by lookup key.

Our ``credits.Plan`` and ``credits.TopUpPackage`` rows are the source of truth; Stripe
holds what it needs to charge for them. Every Price has a stable ``lookup_key``:

- ``plan:<code>:month`` and ``plan:<code>:year`` (recurring) for every paid plan;
- ``topup:<package>`` (one-off, full price) and ``topup:<package>:<plan>`` for every plan
  with a top-up discount (``topup:starter:premium``: $40 instead of $50).

``catalog_sync`` creates what is missing and replaces a Price whose amount changed
(``transfer_lookup_key``; Prices are immutable in Stripe): run twice, it creates nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import stripe
from djstripe.models import Price, Product

from billing.conf import stripe_call, stripe_options
from billing.errors import CatalogMissing
from credits.models import Plan, TopUpPackage

logger = logging.getLogger(__name__)

CURRENCY = "usd"


def plan_lookup_key(*, plan_code: str, interval: str) -> str:
    return f"plan:{plan_code}:{interval}"


def topup_lookup_key(*, package_code: str, plan: Plan | None = None) -> str:
    """The price a team on ``plan`` pays for a package (its discounted price when it has one)."""
    if plan is not None and plan.topup_discount_percent > 0:
        return f"topup:{package_code}:{plan.code}"
    return f"topup:{package_code}"


def parse_plan_lookup_key(lookup_key: str | None) -> tuple[str, str] | None:
    """``plan:standard:month`` -> ``("standard", "month")``; anything else -> None."""
    parts = (lookup_key or "").split(":")
    if len(parts) == 3 and parts[0] == "plan" and parts[2] in ("month", "year"):
        return parts[1], parts[2]
    return None


@dataclass(frozen=True)
class PriceSpec:
    lookup_key: str
    product_key: str
    product_name: str
    unit_amount: int
    interval: str | None  # None: one-off
    metadata: dict[str, str] = field(default_factory=dict)


def catalog_specs() -> list[PriceSpec]:
    """Every Price the catalogue needs, computed from our plans and packages."""
    specs: list[PriceSpec] = []
    plans = list(Plan.objects.all())
    for plan in plans:
        if plan.monthly_price_cents <= 0:
            continue
        for interval, amount in (("month", plan.monthly_price_cents), ("year", plan.annual_price_cents)):
            if amount <= 0:
                continue
            specs.append(
                PriceSpec(
                    lookup_key=plan_lookup_key(plan_code=plan.code, interval=interval),
                    product_key=f"plan:{plan.code}",
                    product_name=f"{plan.name} plan",
                    unit_amount=amount,
                    interval=interval,
                    metadata={"kind": "plan", "plan": plan.code, "interval": interval},
                )
            )
    for package in TopUpPackage.objects.filter(active=True):
        product = {
            "product_key": f"topup:{package.code}",
            "product_name": f"{package.name} top-up ({package.credits} credits)",
        }
        meta = {"kind": "topup", "package": package.code, "credits": str(package.credits)}
        specs.append(
            PriceSpec(
                lookup_key=topup_lookup_key(package_code=package.code),
                unit_amount=package.price_cents,
                interval=None,
                metadata=meta,
                **product,
            )
        )
        for plan in plans:
            if plan.topup_discount_percent > 0:
                specs.append(
                    PriceSpec(
                        lookup_key=topup_lookup_key(package_code=package.code, plan=plan),
                        unit_amount=package.price_cents_for(plan),
                        interval=None,
                        metadata={**meta, "plan": plan.code},
                        **product,
                    )
                )
    return specs


@dataclass
class CatalogSyncResult:
    products_created: int = 0
    prices_created: int = 0
    prices_replaced: int = 0
    unchanged: int = 0
    price_ids: dict[str, str] = field(default_factory=dict)


def product_id_for(product_key: str) -> str:
    """Our Products have stable ids (``ca_plan_standard``): found again without a search."""
    return "ca_" + product_key.replace(":", "_")


def _product_ensure(spec: PriceSpec, opts: dict[str, Any], result: CatalogSyncResult) -> str:
    product_id = product_id_for(spec.product_key)
    try:
        product = stripe.Product.retrieve(product_id, **opts)
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "code", None) != "resource_missing":
            raise
        product = stripe.Product.create(
            id=product_id, name=spec.product_name, metadata={"catalog_key": spec.product_key}, **opts
        )
        result.products_created += 1
        return product.id
    if product.get("name") != spec.product_name or not product.get("active", True):
        stripe.Product.modify(product_id, name=spec.product_name, active=True, **opts)
    return product.id


def _price_matches(price: Any, spec: PriceSpec) -> bool:
    recurring = price.get("recurring") or {}
    return (
        price.get("unit_amount") == spec.unit_amount
        and price.get("currency") == CURRENCY
        and (recurring.get("interval") if recurring else None) == spec.interval
        and price.get("active", True)
    )


def catalog_sync() -> CatalogSyncResult:
    """Create or update the Stripe catalogue, then sync its Products and Prices into dj-stripe."""
    opts = stripe_options()
    result = CatalogSyncResult()
    specs = catalog_specs()
    existing = {
        price.lookup_key: price
        for price in stripe.Price.list(lookup_keys=[s.lookup_key for s in specs], active=True, limit=100, **opts).data
    }
    products: dict[str, str] = {}
    for spec in specs:
        price = existing.get(spec.lookup_key)
        if price is not None and _price_matches(price, spec):
            result.unchanged += 1
            result.price_ids[spec.lookup_key] = price.id
            continue
        if spec.product_key not in products:
            products[spec.product_key] = _product_ensure(spec, opts, result)
        params: dict[str, Any] = {
            "product": products[spec.product_key],
            "currency": CURRENCY,
            "unit_amount": spec.unit_amount,
            "lookup_key": spec.lookup_key,
            "metadata": spec.metadata,
        }
        if spec.interval:
            params["recurring"] = {"interval": spec.interval}
        if price is not None:
            # Prices are immutable: a new one takes over the lookup key, the old one retires.
            params["transfer_lookup_key"] = True
        created = stripe.Price.create(**params, **opts)
        if price is not None:
            retired = stripe.Price.modify(price.id, active=False, **opts)
            # dj-stripe's copy of the old price must lose the key too (Stripe moved it).
            Price.sync_from_stripe_data(retired, api_key=opts["api_key"])
            result.prices_replaced += 1
        else:
            result.prices_created += 1
        result.price_ids[spec.lookup_key] = created.id
    for price_id in result.price_ids.values():
        data = stripe.Price.retrieve(price_id, expand=["product"], **opts)
        Product.sync_from_stripe_data(data["product"], api_key=opts["api_key"])
        Price.sync_from_stripe_data(data, api_key=opts["api_key"])
    logger.info("billing: catalogue synced %s", result)
    return result


def price_id_for(lookup_key: str) -> str:
    """The active Stripe price id for a lookup key (dj-stripe's synced copy, else Stripe)."""
    local = Price.objects.filter(lookup_key=lookup_key, active=True).values_list("id", flat=True).first()
    if local:
        return local
    found = stripe_call(stripe.Price.list, lookup_keys=[lookup_key], active=True, limit=1).data
    if not found:
        raise CatalogMissing(
            "This price is not in Stripe yet: run manage.py billing_sync_catalog.", details={"lookup_key": lookup_key}
        )
    return found[0].id
