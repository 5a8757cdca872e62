"""Discovery reads: filters and sorts, result pages, categories, the dashboard and the queue's figures."""

from discovery.selectors.filters import SORTS, category_names, discoverable_profiles
from discovery.selectors.overview import category_counts, dashboard, discovery_allowances, language_counts
from discovery.selectors.queue import discovery_queue_stats
from discovery.selectors.search import Cursor, SearchPage, cursor_decode, lookalikes_page, query_hash, search_page

__all__ = [
    "SORTS",
    "Cursor",
    "SearchPage",
    "category_counts",
    "category_names",
    "cursor_decode",
    "dashboard",
    "discoverable_profiles",
    "discovery_allowances",
    "discovery_queue_stats",
    "language_counts",
    "lookalikes_page",
    "query_hash",
    "search_page",
]
