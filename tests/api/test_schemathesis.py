"""A property-based run of /api/openapi.json against the app (schemathesis over its WSGI
interface: the real factory-built app, database and store): generated requests for every
operation, with the admin's token, must never get a 5xx, a content type the description
does not list, or a body that breaks the described schema. Bounded (a few derandomised
examples per operation) to stay short.

Operations are driven one by one through hypothesis here rather than with schemathesis'
pytest plugin, whose lazy fixture loader does not run on the pytest this suite uses.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.api.conftest import ApiInstance

EXAMPLES_PER_OPERATION = 8


def test_openapi_description_holds(api: ApiInstance) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    headers = api.headers("admin")

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            case.call_and_validate(
                headers=headers,
                checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
            )

        run()
