"""Page-number pagination: 20 per page by default, ``page_size`` up to 100.

Strict: a ``page_size`` that is not an integer in 1..100 (or is repeated) is a 400 naming it,
never a silent fall back to the default; a ``page`` that is not a positive integer is a 400
too (a page past the end stays a 404, as DRF answers it).
"""

from typing import Any

from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import pagination

from config.api.params import int_query_param

PAGE_MAX = 1_000_000


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Any) -> int:
        return int_query_param(
            request.query_params, self.page_size_query_param, default=self.page_size, minimum=1,
            maximum=self.max_page_size,
        )  # fmt: skip

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        if request.query_params.get(self.page_query_param) not in self.last_page_strings:
            int_query_param(request.query_params, self.page_query_param, default=1, minimum=1, maximum=PAGE_MAX)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1, "maximum": PAGE_MAX},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            if parameter["name"] in bounds:
                parameter["schema"] = {**build_basic_type(OpenApiTypes.INT), **bounds[parameter["name"]]}
        return parameters
