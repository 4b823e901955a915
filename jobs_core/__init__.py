"""The jobs protocol without I/O.

Every client call is a protocol: a generator that yields effects (`HttpRequest`, `SqlQuery`,
`Sleep`, `Now`, `Gather`, `RefreshEndpoint`, `RenewToken`, `SignAssertion`), receives their
replies, and returns the call's result. Drivers in `jobs_transports` perform the effects;
`Stepper` drives a protocol by hand.

Modules, from the calls down to the wire, each one job:

- The calls: `_lookup` (get, get_operation), `_listing` (list), `_create` (create,
  create_ready), `_cancel`, `_events` (one page, or `EventsPager` over all of them), `_wait`
  (polling), `_completions` (waiting on many jobs: `Completions`, `wait_all`), `_handles` (an
  operation handle's rules), `_expansions` (`include=` reads).
- Connecting: `_endpoint_discovery` (the Direct Access URL, asked over SQL), `_token_exchange`
  (a key-pair JWT exchanged for a Direct Access token).
- Arguments: `_validation` (checks before any effect), `_include`, `_reasoners` (either spelling
  of a reasoner type), `_filters` (list filters and newest-first order).
- Routing and sending: `_config` (`ClientConfig`, the retry and polling policies, the hybrid
  rule), `_backend` (the `Dialect` a call takes, chosen once), `_retry` (one request under the
  retry policy and a deadline), `_failures` (what an answer or failure means, both backends).
- The wire: `_http_dialect` and `_sql_dialect` (a builder and a parser per call), `_records`
  (backend objects and rows into `JobRecord`s), `_typed_bodies` (the usual list and get bodies
  straight into `Job`s, when msgspec is installed), `_json_text` (JSON encoded compactly, and
  decoded as `json.loads` reads it, through msgspec when installed), `_timestamps` (every
  timestamp shape).
- Values: `_effects` (effects, replies, the failures drivers throw in), `_models` (`Job`,
  `JobExpanded`, `JobEvents`, `Operation`, `ReasonerType`), `_errors` (the `JobError` family,
  bounded excerpts of server text), `_secrets` (the client's secrets masked in all it produces).
- Replay: `_cassette` (the file format), `_recording` (`recorded()`, `CassetteWriter`), `_replay`
  (`Replayer`), `_serialization` (effects, replies and config as JSON), `_stepper`.
- `_logs` (what is logged, in which words), `_version`.
"""

from ._cancel import cancel as cancel
from ._cassette import Cassette as Cassette
from ._cassette import CassetteError as CassetteError
from ._cassette import Redactor as Redactor
from ._completions import Completions as Completions
from ._completions import wait_all as wait_all
from ._config import Backend as Backend
from ._config import ClientConfig as ClientConfig
from ._config import PollPolicy as PollPolicy
from ._config import RetryPolicy as RetryPolicy
from ._create import OperationRef as OperationRef
from ._create import create as create
from ._create import create_ready as create_ready
from ._effects import Effect as Effect
from ._effects import Gather as Gather
from ._effects import HttpRequest as HttpRequest
from ._effects import HttpResponse as HttpResponse
from ._effects import Now as Now
from ._effects import Protocol as Protocol
from ._effects import RefreshEndpoint as RefreshEndpoint
from ._effects import RenewToken as RenewToken
from ._effects import Reply as Reply
from ._effects import SignAssertion as SignAssertion
from ._effects import Sleep as Sleep
from ._effects import SqlFailure as SqlFailure
from ._effects import SqlQuery as SqlQuery
from ._effects import SqlRows as SqlRows
from ._effects import TransportError as TransportError
from ._endpoint_discovery import discover_endpoint as discover_endpoint
from ._endpoint_discovery import endpoint_query as endpoint_query
from ._endpoint_discovery import parse_endpoint as parse_endpoint
from ._errors import JobCapabilityError as JobCapabilityError
from ._errors import JobClientDisconnectedError as JobClientDisconnectedError
from ._errors import JobConfigurationError as JobConfigurationError
from ._errors import JobError as JobError
from ._errors import JobFailedError as JobFailedError
from ._errors import JobInvalidRequestError as JobInvalidRequestError
from ._errors import JobNotFoundError as JobNotFoundError
from ._errors import JobNotReadyError as JobNotReadyError
from ._errors import JobServerError as JobServerError
from ._errors import JobTimeoutError as JobTimeoutError
from ._errors import JobUnknownError as JobUnknownError
from ._events import DEFAULT_STREAM as DEFAULT_STREAM
from ._events import EventsPager as EventsPager
from ._events import get_events as get_events
from ._failures import is_lost_connection as is_lost_connection
from ._handles import OperationHandle as OperationHandle
from ._include import Include as Include
from ._include import JobIncludeDict as JobIncludeDict
from ._include import parse_include as parse_include
from ._listing import list_jobs as list_jobs
from ._logs import describe_config as describe_config
from ._logs import describe_outcome as describe_outcome
from ._logs import describe_request as describe_request
from ._lookup import get as get
from ._lookup import get_operation as get_operation
from ._lookup import operation_of as operation_of
from ._models import Job as Job
from ._models import JobEvents as JobEvents
from ._models import JobExpanded as JobExpanded
from ._models import JobRecord as JobRecord
from ._models import Operation as Operation
from ._models import ReasonerType as ReasonerType
from ._models import is_terminal as is_terminal
from ._reasoners import ReasonerTypeName as ReasonerTypeName
from ._reasoners import parse_reasoner_type as parse_reasoner_type
from ._recording import CassetteWriter as CassetteWriter
from ._recording import Sink as Sink
from ._recording import recorded as recorded
from ._replay import Replayer as Replayer
from ._secrets import Secrets as Secrets
from ._secrets import is_credential_header as is_credential_header
from ._secrets import is_secret_setting as is_secret_setting
from ._stepper import Stepper as Stepper
from ._token_exchange import AccessToken as AccessToken
from ._token_exchange import exchange_request as exchange_request
from ._token_exchange import exchange_token as exchange_token
from ._token_exchange import parse_exchange as parse_exchange
from ._version import __version__ as __version__
from ._wait import DEFAULT_POLL_INTERVAL_S as DEFAULT_POLL_INTERVAL_S
from ._wait import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S
from ._wait import ProgressCallback as ProgressCallback
from ._wait import wait as wait

__all__ = [
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_STREAM",
    "DEFAULT_TIMEOUT_S",
    "AccessToken",
    "Backend",
    "Cassette",
    "CassetteError",
    "CassetteWriter",
    "ClientConfig",
    "Completions",
    "Effect",
    "EventsPager",
    "Gather",
    "HttpRequest",
    "HttpResponse",
    "Include",
    "Job",
    "JobCapabilityError",
    "JobClientDisconnectedError",
    "JobConfigurationError",
    "JobError",
    "JobEvents",
    "JobExpanded",
    "JobFailedError",
    "JobIncludeDict",
    "JobInvalidRequestError",
    "JobNotFoundError",
    "JobNotReadyError",
    "JobRecord",
    "JobServerError",
    "JobTimeoutError",
    "JobUnknownError",
    "Now",
    "Operation",
    "OperationHandle",
    "OperationRef",
    "PollPolicy",
    "ProgressCallback",
    "Protocol",
    "ReasonerType",
    "ReasonerTypeName",
    "Redactor",
    "RefreshEndpoint",
    "RenewToken",
    "Replayer",
    "Reply",
    "RetryPolicy",
    "Secrets",
    "SignAssertion",
    "Sink",
    "Sleep",
    "SqlFailure",
    "SqlQuery",
    "SqlRows",
    "Stepper",
    "TransportError",
    "__version__",
    "cancel",
    "create",
    "create_ready",
    "describe_config",
    "describe_outcome",
    "describe_request",
    "discover_endpoint",
    "endpoint_query",
    "exchange_request",
    "exchange_token",
    "get",
    "get_events",
    "get_operation",
    "is_credential_header",
    "is_lost_connection",
    "is_secret_setting",
    "is_terminal",
    "list_jobs",
    "operation_of",
    "parse_endpoint",
    "parse_exchange",
    "parse_include",
    "parse_reasoner_type",
    "recorded",
    "wait",
    "wait_all",
]
