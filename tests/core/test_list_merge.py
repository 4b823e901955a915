"""A `list` of all types merges each type's records: one per (type, id), whichever backend."""

from __future__ import annotations

import attrs
import pytest

import jobs_core as core
from jobs_core import ClientConfig, Effect, ReasonerType
from jobs_core import _http_dialect as http
from jobs_core import _sql_dialect as sql
from jobs_core._filters import ListFilters
from tests.core.replies import HTTP, SQL, job_json, job_row, ok, txn_json, txn_row
from tests.core.script import Script

LOGIC, PRESCRIPTIVE, PREDICTIVE = list(ReasonerType)
ALL = ListFilters()
HYBRID_SQL_LOGIC = ClientConfig(http=True, sql=True, app="APP", logic_over_http=False)
SHARED = "same-id"


def test_http_lists_a_transaction_and_jobs_of_both_types_sharing_an_id() -> None:
    jobs = {"jobs": [job_json(SHARED, "SOLVER"), job_json(SHARED, "ML")]}
    script = Script(
        (http.build_list(LOGIC), ok({"transactions": [txn_json(SHARED)]})),
        (http.build_list(PRESCRIPTIVE), ok(jobs)),
    )
    listed = script.finish(core.list_jobs(HTTP))
    assert sorted((j.reasoner_type, j.id) for j in listed) == [
        ("Logic", SHARED),
        ("Predictive", SHARED),
        ("Prescriptive", SHARED),
    ]


def test_sql_lists_a_transaction_and_jobs_of_both_types_sharing_an_id() -> None:
    ns = SQL.sql_namespace
    script = Script(
        (sql.build_list(ns, LOGIC, ALL, None, 0), txn_row(SHARED)),
        (sql.build_list(ns, PRESCRIPTIVE, ALL, None, 0), job_row(SHARED, "SOLVER")),
        (sql.build_list(ns, PREDICTIVE, ALL, None, 0), job_row(SHARED, "ML")),
    )
    listed = script.finish(core.list_jobs(SQL))
    assert len(listed) == 3
    assert {j.reasoner_type for j in listed} == {"Logic", "Prescriptive", "Predictive"}


def test_hybrid_lists_a_sql_transaction_and_http_jobs_sharing_an_id() -> None:
    ns = HYBRID_SQL_LOGIC.sql_namespace
    script = Script(
        (sql.build_list(ns, LOGIC, ALL, None, 0), txn_row(SHARED)),
        (http.build_list(PRESCRIPTIVE), ok({"jobs": [job_json(SHARED, "ML")]})),
    )
    listed = script.finish(core.list_jobs(HYBRID_SQL_LOGIC))
    assert sorted(j.reasoner_type for j in listed) == ["Logic", "Predictive"]


@pytest.mark.parametrize("config", [HTTP, SQL], ids=["http", "sql"])
def test_the_same_record_twice_is_listed_once(config: ClientConfig) -> None:
    ns = config.sql_namespace
    steps: list[tuple[Effect, object]]
    if config.http:
        twice = ok({"jobs": [job_json(SHARED, "ML"), job_json(SHARED, "ML")]})
        steps = [(http.build_list(PREDICTIVE), twice)]
    else:
        row = job_row(SHARED, "ML")
        steps = [(sql.build_list(ns, PREDICTIVE, ALL, 10, 0), attrs.evolve(row, rows=row.rows * 2))]
    listed = Script(*steps).finish(core.list_jobs(config, "Predictive", limit=10))
    assert [(j.reasoner_type, j.id) for j in listed] == [("Predictive", SHARED)]
