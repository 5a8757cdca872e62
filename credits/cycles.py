"""Billing-cycle arithmetic: cycles are whole months counted from the wallet's anchor."""

from datetime import datetime

from dateutil.relativedelta import relativedelta


def cycle_bounds(*, anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` cycle containing ``now``, counting months from ``anchor``.

    Months are added to the anchor itself (not chained), so a cycle anchored on the 31st
    ends on the 30th in April and on the 31st again in May.
    """
    if now < anchor:
        return anchor, anchor + relativedelta(months=1)
    months = (now.year - anchor.year) * 12 + (now.month - anchor.month)
    start = anchor + relativedelta(months=months)
    if start > now:
        months -= 1
        start = anchor + relativedelta(months=months)
    return start, anchor + relativedelta(months=months + 1)
