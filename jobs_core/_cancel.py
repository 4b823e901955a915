"""`cancel`: stop a job or transaction."""

from __future__ import annotations

from ._backend import send_cancel
from ._config import ClientConfig
from ._effects import Protocol
from ._errors import JobInvalidRequestError
from ._reasoners import parse_reasoner_type
from ._validation import require_bool, require_segment


def cancel(
    config: ClientConfig, reasoner_type: str, job_id: str, *, all_users: bool = False
) -> Protocol[None]:
    """Return the protocol of `JobsClient.cancel`.

    Raises (before any effect):
        JobInvalidRequestError: a bad argument, or `all_users=True` for a job (Logic only).
        JobCapabilityError: `all_users=True` for Logic without the SQL backend.
    """
    kind = parse_reasoner_type(reasoner_type)
    job_id = require_segment("job_id", job_id)
    if require_bool("all_users", all_users) and not kind.is_logic:
        raise JobInvalidRequestError(
            f"cancel(all_users=True) is only supported for Logic transactions, not {kind.label}"
        )
    return send_cancel(config, kind, job_id, all_users=all_users)
