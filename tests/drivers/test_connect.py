"""`connect()` / `connect_sync()` and the clients' construction: configuration errors come early."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import socket
import sqlite3
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

import jobs_emulator
from jobs_core import (
    ClientConfig,
    HttpRequest,
    HttpResponse,
    JobConfigurationError,
    JobInvalidRequestError,
    JobServerError,
    PollPolicy,
    Protocol,
    RetryPolicy,
    is_secret_setting,
)
from jobs_emulator import ManualClock
from jobs_transports import (
    JobsClient,
    JobsClientSync,
    connect,
    connect_sync,
)
from jobs_transports._async_driver import AsyncDriver
from jobs_transports._http_executors import SyncHttp
from jobs_transports._http_target import HttpTarget, Timeouts
from jobs_transports._sync_driver import SyncDriver
from tests.drivers.conftest import run_scenario
from tests.drivers.reliability_fixtures import run_async
from tests.drivers.uniform import Uniform
from tests.virtual_time import VirtualTime

T = TypeVar("T")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"base_url": "ftp://example"},
        {"base_url": "localhost:8080"},
        {"snowflake": {"user": "u"}},  # no app
        {"sql_connection": object(), "snowflake": {}, "app": "A"},
        {"snowflake": {"paramstyle": "pyformat"}, "app": "A"},
        {"base_url": "http://x", "max_connections": 0},
    ],
)
def test_bad_configurations_fail_at_connect(options: dict[str, Any]) -> None:
    with pytest.raises(JobConfigurationError):
        connect_sync(**options)
    with pytest.raises(JobConfigurationError):
        connect(**options)


WRONG_TYPES: dict[str, dict[str, Any]] = {
    # Each was accepted: the token dropped (no credentials sent), the others failing at the first
    # call with AttributeError or TypeError, or routing as if "no" were True.
    "token as bytes": {"token": b"s3cr3t-t0ken"},
    "token as an int": {"token": 12345},
    "timeouts as a number": {"timeouts": 5},
    "retry as a number": {"retry": 5},
    "polling as text": {"polling": "fast"},
    "logic_over_http as text": {"logic_over_http": "no"},
    "seed as text": {"seed": "x"},
    "max_connections as a bool": {"max_connections": True},
    "max_connections as a float": {"max_connections": 2.0},
    "snowflake as a number": {"snowflake": 5, "app": "A"},
    # These failed with AttributeError or TypeError (headers, record, replay, config_file), or
    # at the first call (sql_connection: a JobServerError; redact: a TypeError once recording),
    # or said something else (profile, connection: "need a configuration file").
    "base_url as a number": {"base_url": 5},
    "app as a number": {"app": 5},
    "schema as a number": {"schema": 5},
    "headers as a number": {"headers": 5},
    "sql_connection as text": {"sql_connection": "snowflake://u@acct", "app": "A"},
    "record as a number": {"record": 5},
    "replay as a number": {"replay": 5},
    "redact as text": {"redact": "s3cr3t"},
    "profile as a number": {"profile": 12345},
    "connection as a number": {"connection": 12345},
    "config_file as a number": {"config_file": 12345},
    # A wrong value that happened to be falsy stood for the default.
    "retry as zero": {"retry": 0},
    "polling as an empty dict": {"polling": {}},
}


def test_every_option_of_connect_has_a_wrong_type_case() -> None:
    options = set(inspect.signature(connect_sync).parameters)
    assert options == set(inspect.signature(connect).parameters)
    checked = {next(iter(case)) for case in WRONG_TYPES.values()}  # the first key is the one
    assert options <= checked, f"no wrong-type case for {sorted(options - checked)}"


@pytest.mark.parametrize("options", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_options_of_another_type_fail_at_connect_naming_the_type_only(
    options: dict[str, Any],
) -> None:
    name = next(iter(options))
    options = {"base_url": "http://127.0.0.1:9", **options}
    for make in (connect_sync, connect):
        with pytest.raises(JobConfigurationError, match=f"^{name} must be") as refused:
            make(**options)
        assert "s3cr3t" not in str(refused.value)
        assert "12345" not in str(refused.value)


BAD_LIMITS: dict[str, Any] = {
    "zero": 0,
    "negative": -1,
    "nan": math.nan,
    "inf": math.inf,
    "1e300": 1e300,
    "int past the floats": 10**5000,
    "text": "1",
    "bool": True,
}


@pytest.mark.parametrize("seconds", BAD_LIMITS.values(), ids=BAD_LIMITS.keys())
@pytest.mark.parametrize("phase", ["connect", "read", "write", "pool", "total"])
def test_a_timeout_that_no_socket_can_hold_is_refused_when_made(phase: str, seconds: Any) -> None:
    """A zero or negative limit failed every request after its retries; NaN meant no limit;
    text failed with TypeError; inf and 1e300 with OverflowError."""
    with pytest.raises(JobConfigurationError, match=f"Timeouts.{phase} must be"):
        Timeouts(**{phase: seconds})


POLICIES: dict[str, Callable[[], Any]] = {
    "retry: attempts a bool": lambda: RetryPolicy(max_attempts=True),
    "retry: attempts text": lambda: RetryPolicy(max_attempts="3"),  # type: ignore[arg-type]
    "retry: backoff NaN": lambda: RetryPolicy(initial_backoff_s=math.nan),
    "retry: backoff without end": lambda: RetryPolicy(max_backoff_s=math.inf),
    "retry: multiplier NaN": lambda: RetryPolicy(multiplier=math.nan),
    "retry: Retry-After cap negative": lambda: RetryPolicy(max_retry_after_s=-1),
    "polling: interval NaN": lambda: PollPolicy(max_interval_s=math.nan),
    "polling: factor text": lambda: PollPolicy(factor="2"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("make", POLICIES.values(), ids=POLICIES.keys())
def test_a_policy_of_values_no_clock_can_use_is_refused_when_made(make: Callable[[], Any]) -> None:
    with pytest.raises(JobConfigurationError, match="must be"):
        make()


def test_polls_may_grow_without_a_cap() -> None:
    assert PollPolicy(max_interval_s=math.inf).next_interval(1.0, 100.0) == 20.0


def test_a_connection_with_another_paramstyle_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class PyformatConnection:  # a connection that says so itself, as Snowflake's do
        paramstyle = "pyformat"

        def cursor(self) -> None: ...

    with pytest.raises(JobConfigurationError, match="qmark"):
        connect_sync(sql_connection=PyformatConnection(), app="A")

    # PEP 249: the module of the connection declares it.
    driver = types.ModuleType("some_dbapi.connections")
    monkeypatch.setitem(sys.modules, "some_dbapi", types.ModuleType("some_dbapi"))
    monkeypatch.setitem(sys.modules, "some_dbapi.connections", driver)
    monkeypatch.setattr(sys.modules["some_dbapi"], "paramstyle", "named", raising=False)
    connection = type(
        "Connection", (), {"__module__": "some_dbapi.connections", "cursor": lambda self: None}
    )()
    with pytest.raises(JobConfigurationError, match="'named'"):
        connect_sync(sql_connection=connection, app="A")


def test_qmark_connections_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = sqlite3.connect(":memory:")  # sqlite3.paramstyle is "qmark"
    connect_sync(sql_connection=connection, app="A").close()
    connection.close()

    # The Snowflake connector 4.x (what Python 3.10 installs) keeps a connection's own style in
    # `_paramstyle`, under a module-level "pyformat": a qmark connection was refused.
    module = types.ModuleType("some_connector")
    monkeypatch.setitem(sys.modules, "some_connector", module)
    monkeypatch.setattr(module, "paramstyle", "pyformat", raising=False)
    connector_4x = type(
        "Connection", (), {"__module__": "some_connector", "cursor": lambda self: None}
    )()
    connector_4x._paramstyle = "qmark"
    connect_sync(sql_connection=connector_4x, app="A").close()
    connector_4x._paramstyle = "pyformat"
    with pytest.raises(JobConfigurationError, match="'pyformat'"):
        connect_sync(sql_connection=connector_4x, app="A")


def test_a_non_db_api_failure_of_the_sql_driver_surfaces_as_a_job_error() -> None:
    # sqlite3 binds ? too, but knows none of the API's procedures: its errors must come back
    # as JobErrors, and so must a TypeError from the driver itself.
    clock = VirtualTime(ManualClock())  # the failures are retried: their back-offs take no time
    # Statements run in a worker thread that the caller stops waiting for at their time limit.
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    with (
        clock.connect_sync(sql_connection=connection, app="A") as client,
        pytest.raises(JobServerError, match=r"OperationalError|syntax error"),
    ):
        client.get("Predictive", "x")
    connection.close()  # the caller's connection stays the caller's

    class Broken:
        def cursor(self) -> Any:
            raise TypeError("not all arguments converted during string formatting")

    with (
        clock.connect_sync(sql_connection=Broken(), app="A") as client,
        pytest.raises(JobServerError, match="TypeError: not all arguments converted"),
    ):
        client.get("Predictive", "x")


def test_an_endpoint_provider_that_fails_is_a_configuration_error() -> None:
    def provider() -> str:
        raise RuntimeError("vault unreachable")

    with (
        connect_sync(base_url=provider) as client,
        pytest.raises(JobConfigurationError, match="vault"),
    ):
        client.get("Logic", "t1")


def test_an_async_client_belongs_to_one_event_loop() -> None:
    # A port nobody listens on: the first call fails to connect, so no pooled connection is
    # left in the first loop, but the client is bound to it all the same.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(base_url=f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=1))

    async def get() -> None:
        await client.get("Logic", "t1")

    with pytest.raises(JobServerError, match="ConnectError"):
        asyncio.run(get())
    with pytest.raises(JobConfigurationError, match="one client per event loop"):
        asyncio.run(get())


@pytest.mark.parametrize(
    ("first", "then"), [("asyncio", "trio"), ("trio", "trio"), ("trio", "asyncio")]
)
def test_an_async_client_belongs_to_one_event_loop_of_either_library(first: str, then: str) -> None:
    """The bound driver's quick check of the running loop tells any other loop apart, of its own
    library or of the other one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(base_url=f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=1))

    async def get() -> None:
        with contextlib.suppress(JobServerError):  # nobody listens: bound all the same
            await client.get("Logic", "t1")

    run_async(first, get)
    with pytest.raises(JobConfigurationError, match=f"the {first} event loop"):
        run_async(then, get)


def test_clients_can_be_built_on_a_driver_alone(module_real_emu: jobs_emulator.Emulator) -> None:
    driver = SyncDriver(http=SyncHttp(HttpTarget.of(module_real_emu.base_url, None, Timeouts())))
    with JobsClientSync(driver) as client:
        assert client.config == ClientConfig(http=True)
        assert client.get("Logic", "no-such-id") is None
    config = ClientConfig(http=True, seed=3)
    assert JobsClient(AsyncDriver(), config).config is config  # the seed's positional form
    with pytest.raises(JobConfigurationError):
        JobsClientSync(SyncDriver())


def test_the_emulators_own_login_is_masked_nowhere_in_what_it_reports(
    module_real_emu: jobs_emulator.Emulator,
) -> None:
    # A client masks its secrets wherever a reply holds them: the emulator's default password
    # must not be part of anything else it reports, or the records it sends come back garbled.
    kwargs = module_real_emu.snowflake
    secrets = [str(v) for k, v in kwargs.items() if is_secret_setting(k)]
    reported = [str(v) for k, v in kwargs.items() if not is_secret_setting(k)]
    reported += [module_real_emu.app, module_real_emu.base_url, jobs_emulator.DEFAULT_USER]
    assert secrets
    assert [(s, r) for s in secrets for r in reported if s in r] == []
    payload = {"database": "d", "query": "q", "headers": {"emulate": {"duration_s": 0}}}
    with connect_sync(snowflake=kwargs, app=module_real_emu.app) as client:
        job = client.create_ready("Logic", "e", payload, timeout_s=30)
    assert job.created_by == jobs_emulator.DEFAULT_USER


class NothingThere:
    """A gateway of one's own: every request is answered 404."""

    def __init__(self) -> None:
        self.closed = False

    def run(self, protocol: Protocol[T]) -> T:
        try:
            effect = next(protocol)
            while True:
                assert isinstance(effect, HttpRequest)
                effect = protocol.send(HttpResponse(404, body=b'{"message": "not found"}'))
        except StopIteration as stop:
            result: T = stop.value
            return result

    def close(self) -> None:
        self.closed = True


def test_a_client_runs_on_a_gateway_of_your_own_given_its_configuration() -> None:
    with pytest.raises(JobConfigurationError, match="ClientConfig"):
        JobsClientSync(NothingThere())
    gateway = NothingThere()
    with JobsClientSync(gateway, config=ClientConfig(http=True)) as client:
        assert client.gateway is gateway
        assert client.get("Logic", "t1") is None
    assert gateway.closed


@pytest.mark.parametrize(
    ("gateway", "config"),
    [
        (None, ClientConfig(http=True)),
        (object(), ClientConfig(http=True)),
        (NothingThere(), {"http": True}),
        (NothingThere(), "http"),
    ],
)
def test_a_client_on_what_is_no_gateway_or_no_configuration_fails_when_made(
    gateway: Any, config: Any
) -> None:
    """Both were accepted, and failed at the first call (or in `repr`) with AttributeError."""
    with pytest.raises(JobConfigurationError, match=r"gateway with run|must be a ClientConfig"):
        JobsClientSync(gateway, config=config)
    with pytest.raises(JobConfigurationError, match=r"gateway with run|must be a ClientConfig"):
        JobsClient(gateway, config)


def test_each_client_draws_its_own_jitter_seed_and_a_cassette_keeps_it(
    module_real_emu: jobs_emulator.Emulator, tmp_path: Path
) -> None:
    seeds = set()
    for _ in range(5):
        with connect_sync(base_url=module_real_emu.base_url) as client:
            seeds.add(client.config.seed)
    assert len(seeds) > 1
    with connect_sync(base_url=module_real_emu.base_url, record=tmp_path / "c.jsonl") as client:
        seed = client.config.seed
    assert connect_sync(replay=tmp_path / "c.jsonl").config.seed == seed


SECRET = "s3cr3t-t0ken"
UNSENDABLE = [
    f"{SECRET}\r\nX-Injected: 1",
    f"{SECRET}\nmore",
    f"{SECRET}\x00",
    f"{SECRET}\x7f",
    f"{SECRET}é",
    f"{SECRET}\u2028x",
]


def _chain(error: BaseException | None) -> str:
    text = ""
    while error is not None:
        text += f"{error!s} {error!r} "
        error = error.__cause__ or error.__context__
    return text


@pytest.mark.parametrize("value", UNSENDABLE)
@pytest.mark.parametrize("where", ["token", "header"])
def test_a_credential_that_cannot_go_on_the_wire_is_refused_without_showing_it(
    value: str, where: str
) -> None:
    options: dict[str, Any] = (
        {"token": value} if where == "token" else {"headers": {"X-Api-Key": value}}
    )
    for connector in (connect_sync, connect):
        with pytest.raises(JobConfigurationError) as raised:
            connector(base_url="http://127.0.0.1:1", **options)
        assert SECRET not in _chain(raised.value)


@pytest.mark.parametrize("name", ["", "X Key", "X-Key\r\n", "Ключ", "X:Key", 7])
def test_a_header_name_that_is_not_an_http_token_is_refused(name: Any) -> None:
    for connector in (connect_sync, connect):
        with pytest.raises(JobConfigurationError, match="header name"):
            connector(base_url="http://127.0.0.1:1", headers={name: "v"})


@pytest.mark.parametrize("token", ['"', "", "  ", 'a"b'])
def test_a_token_that_would_break_its_quoting_is_refused(token: str) -> None:
    with pytest.raises(JobConfigurationError, match="token"):
        connect_sync(base_url="http://127.0.0.1:1", token=token)


def test_surrounding_whitespace_of_a_token_is_not_part_of_it(
    driver: str, session_real_emu: jobs_emulator.Emulator
) -> None:
    """A token read from a file ends with a newline; the emulator only knows it without."""

    async def scenario(client: Uniform) -> Any:
        return await client.list("Predictive", only_active=True)

    options = {
        "base_url": session_real_emu.base_url,
        "token": "\ttok-alice\n",
        "headers": {"X-Note": " hi "},
    }
    assert isinstance(run_scenario(driver, options, scenario), list)


BAD_URLS = [
    "http://[::1",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:80\r\n",
    "http://127.0.0.1:8o",
    "http://127.0.0.1:0",
    "http://hôst.example",
    "http://",
    "http:///v1",
    "127.0.0.1:8000",
    "ftp://example",
    "http://example/?x=1",
    "http://exa mple",
    "",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_base_url_that_is_not_usable_fails_at_connect(url: str) -> None:
    for connector in (connect_sync, connect):
        with pytest.raises(JobConfigurationError, match="base_url"):
            connector(base_url=url)


def test_a_base_url_of_another_type_fails_at_connect() -> None:
    with pytest.raises(JobConfigurationError, match="base_url"):
        connect_sync(base_url=42)  # type: ignore[arg-type]


@pytest.mark.parametrize("garbage", ["http://[::1", "http://h:99999", "http://hôst", None])
def test_an_endpoint_provider_answering_garbage_after_a_refresh_is_a_configuration_error(
    driver: str, module_real_emu: jobs_emulator.Emulator, garbage: object
) -> None:
    answers = [module_real_emu.base_url, garbage]
    rule = module_real_emu.faults.stale_endpoint(times=1)

    def provider() -> Any:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async def scenario(client: Uniform) -> Any:
        return await client.get("Predictive", "j1")

    try:
        with pytest.raises(JobConfigurationError, match="base_url"):
            run_scenario(driver, {"base_url": provider}, scenario)
    finally:
        module_real_emu.faults.clear()
    assert rule.hits == 1


@pytest.mark.parametrize("ref", [None, "j1", ["j1"], 3, 2.5, {"id": "j1"}])
def test_an_operation_of_something_else_than_a_reference_is_an_invalid_request(
    ref: Any, module_real_emu: jobs_emulator.Emulator
) -> None:
    with (
        connect_sync(base_url=module_real_emu.base_url) as client,
        pytest.raises(JobInvalidRequestError),
    ):
        client.operation(ref)
    with pytest.raises(JobInvalidRequestError):
        connect(base_url=module_real_emu.base_url).operation(ref)


def test_a_client_built_on_another_clients_gateway_runs_with_its_configuration(
    module_real_emu: jobs_emulator.Emulator, tmp_path: Path
) -> None:
    cassette = tmp_path / "c.jsonl"
    with connect_sync(base_url=module_real_emu.base_url, seed=5, record=cassette) as recording:
        assert JobsClientSync(recording.gateway).config == recording.config
        recording.get("Logic", "t1")
    with connect_sync(replay=cassette) as replaying:
        assert JobsClientSync(replaying.gateway).config == recording.config
    plain = connect_sync(base_url=module_real_emu.base_url)
    assert JobsClientSync(plain.gateway).config == ClientConfig(http=True)
    plain.close()
