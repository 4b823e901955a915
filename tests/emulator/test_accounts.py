"""The account side of the emulator: service_endpoint over SQL, /oauth/token, PATs, key-pair and
PAT SQL logins with the real connector, and a Direct Access API that moves."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpcore
import jwt
import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector.errors import DatabaseError

from jobs_emulator import STALE_ENDPOINT_MESSAGE, Emulator, serve
from jobs_emulator._key_pairs import fingerprint
from jobs_emulator._oauth import GRANT_TYPE
from tests.emulator.loopback_http import Http, Reply

PAT = "pat-alice-secret"
BOB_PAT = "pat-bob-secret"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def alice_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def module_users_emu(alice_key: rsa.RSAPrivateKey) -> Iterator[Emulator]:
    """An emulator with ALICE (public key and PAT) and bob (PAT), tokens living 600 s."""
    users = {"ALICE": {"public_key": public_pem(alice_key), "pat": PAT}, "bob": {"pat": BOB_PAT}}
    with serve(clock="manual", users=users, token_ttl_s=600) as emulator:
        yield emulator


def assertion(
    key: rsa.RSAPrivateKey,
    *,
    user: str = "ALICE",
    account: str = "EMULATOR",
    signed_as: rsa.RSAPrivateKey | None = None,
    lifetime_s: float = 60,
    issued_at: float | None = None,
) -> str:
    """Return a key-pair JWT for `user`, claiming `key`'s fingerprint, signed by `signed_as`."""
    now = time.time() if issued_at is None else issued_at
    claims = {
        "iss": f"{account}.{user}.{fingerprint(key.public_key())}",
        "sub": f"{account}.{user}",
        "iat": int(now),
        "exp": int(now + lifetime_s),
    }
    return jwt.encode(claims, signed_as or key, algorithm="RS256")


def exchange(emu: Emulator, jwt_text: str, scope: str | None = None, **form: str) -> Reply:
    """POST /oauth/token on the SQL API's host and port; return the answer."""
    fields = {
        "grant_type": GRANT_TYPE,
        "assertion": jwt_text,
        "scope": scope if scope is not None else emu.base_url.removeprefix("http://"),
        **form,
    }
    with httpcore.ConnectionPool() as pool:
        response = pool.request(
            "POST",
            f"http://{emu.snowflake['host']}:{emu.snowflake['port']}/oauth/token",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            content=urlencode(fields).encode(),
        )
    headers = {k.decode().lower(): v.decode() for k, v in response.headers}
    return Reply(response.status, headers, response.content)


def direct(emu: Emulator, token: str | None, method: str = "GET", body: Any = None) -> Reply:
    client = Http(emu)
    try:
        path = "/v1alpha1/jobs"
        return client.call(method, path, body, token=token) if token else client.call(method, path)
    finally:
        client.close()


def connect(emu: Emulator, **login: Any) -> Any:
    """Return a connector connection to `emu` with `login` replacing the password login."""
    kwargs = {key: value for key, value in emu.snowflake.items() if key != "password"}
    return snowflake.connector.connect(**{**kwargs, **login})


@contextlib.contextmanager
def sql(emu: Emulator, **login: Any) -> Iterator[Any]:
    """Yield a connection as `connect` makes it; close it (no COMMIT) on the way out."""
    connection = connect(emu, **login)
    try:
        yield connection
    finally:
        connection.close()


def service_endpoint(connection: Any, statement: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        assert [column.name for column in cursor.description] == ["SERVICE_ENDPOINT"]
        return list(cursor.fetchall())


def der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# -- endpoint discovery ---------------------------------------------------------------------


def test_service_endpoint_answers_the_direct_access_url_and_is_counted(
    module_users_emu: Emulator,
) -> None:
    before = module_users_emu.service_endpoint_calls
    with sql(
        module_users_emu, user="bob", authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=BOB_PAT
    ) as conn:
        for statement in (
            f"CALL {module_users_emu.app}.app.service_endpoint(TRUE)",
            f'call "{module_users_emu.app}".APP.SERVICE_ENDPOINT(true);',
            f"CALL {module_users_emu.app.lower()}.App.Service_Endpoint(TRUE)",
        ):
            assert service_endpoint(conn, statement) == [(module_users_emu.base_url,)]
    assert module_users_emu.base_url.startswith("http://127.0.0.1:")
    assert module_users_emu.service_endpoint_calls == before + 3


def test_moving_direct_access_leaves_a_stale_endpoint_behind(module_users_emu: Emulator) -> None:
    old = module_users_emu.base_url
    new = module_users_emu.move_direct_access()
    assert new != old
    assert module_users_emu.base_url == new
    with httpcore.ConnectionPool() as pool:
        stale = pool.request("GET", f"{old}/v1alpha1/jobs", headers={"Authorization": PAT})
        moved = pool.request(
            "GET", f"{new}/v1alpha1/jobs", headers={"Authorization": f'Snowflake Token="{PAT}"'}
        )
    assert stale.status == 404
    assert (
        "could not find the service associated with endpoint"
        in json.loads(stale.content)["message"]
    )
    assert moved.status == 200
    with sql(
        module_users_emu, user="bob", authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=BOB_PAT
    ) as conn:
        assert service_endpoint(
            conn, f"CALL {module_users_emu.app}.app.service_endpoint(TRUE)"
        ) == [(new,)]


# -- the JWT-bearer exchange ----------------------------------------------------------------


def test_a_verified_jwt_is_exchanged_for_a_token_that_opens_direct_access(
    module_users_emu: Emulator, alice_key: rsa.RSAPrivateKey
) -> None:
    before = module_users_emu.token_exchanges
    scope = "session:role:ANALYST " + module_users_emu.base_url.removeprefix("http://")
    reply = exchange(module_users_emu, assertion(alice_key), scope)
    assert reply.status == 200, reply.body
    token = reply.body.decode()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert 590 < claims["exp"] - time.time() <= 600
    assert module_users_emu.token_exchanges == before + 1
    created = direct(module_users_emu, token, "POST", Http.job_body())
    assert created.status == 200
    assert module_users_emu.engine.get(created.json()["id"]).created_by == "ALICE"


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"grant_type": "password"}, 400, "grant_type must be"),
        ({"assertion": ""}, 400, "assertion is required"),
        ({"scope": "example.com:443"}, 400, "scope must be"),
        ({"scope": "http://{endpoint}"}, 400, "without a scheme"),
        ({"scope": ""}, 400, "scope must be"),
        ({"assertion": "not-a-jwt"}, 401, "not a JWT"),
    ],
)
def test_malformed_exchanges_are_refused_clearly(
    module_users_emu: Emulator,
    alice_key: rsa.RSAPrivateKey,
    change: dict[str, str],
    status: int,
    fragment: str,
) -> None:
    endpoint = module_users_emu.base_url.removeprefix("http://")
    fields = {
        "assertion": assertion(alice_key),
        "scope": endpoint,
        **{k: v.replace("{endpoint}", endpoint) for k, v in change.items()},
    }
    reply = exchange(module_users_emu, fields.pop("assertion"), fields.pop("scope"), **fields)
    assert reply.status == status
    assert fragment in reply.json()["message"]


def test_a_jwt_that_does_not_prove_the_user_is_refused_with_401(
    module_users_emu: Emulator, alice_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    cases = {
        "signature does not verify": assertion(alice_key, signed_as=other_key),
        "fingerprint": assertion(other_key),
        "has expired": assertion(alice_key, issued_at=time.time() - 120),
        "iat is in the future": assertion(alice_key, issued_at=time.time() + 600),
        "lifetime": assertion(alice_key, lifetime_s=7200),
        "not registered": assertion(alice_key, user="MALLORY"),
        "no public key": assertion(alice_key, user="BOB"),
        "account EMULATOR": assertion(alice_key, account="OTHER"),
        "upper-cased": assertion(alice_key, user="alice"),
    }
    before = module_users_emu.token_exchanges
    for fragment, jwt_text in cases.items():
        reply = exchange(module_users_emu, jwt_text)
        assert reply.status == 401, fragment
        assert fragment in reply.json()["message"]
        assert jwt_text not in reply.body.decode()
    assert module_users_emu.token_exchanges == before


def test_the_exchange_names_a_stale_endpoint_and_its_tokens_stop_at_the_new_one(
    module_users_emu: Emulator, alice_key: rsa.RSAPrivateKey
) -> None:
    old = module_users_emu.base_url.removeprefix("http://")
    token = exchange(module_users_emu, assertion(alice_key)).body.decode()
    module_users_emu.move_direct_access()
    stale = exchange(module_users_emu, assertion(alice_key), old)
    assert stale.status == 400
    assert STALE_ENDPOINT_MESSAGE in stale.json()["message"]
    refused = direct(module_users_emu, token)
    assert refused.status == 401
    assert "issued for endpoint" in refused.json()["message"]
    fresh = exchange(module_users_emu, assertion(alice_key)).body.decode()
    assert direct(module_users_emu, fresh).status == 200


def test_the_exchange_answers_only_post_on_its_path(module_users_emu: Emulator) -> None:
    with httpcore.ConnectionPool() as pool:
        base = f"http://{module_users_emu.snowflake['host']}:{module_users_emu.snowflake['port']}"
        assert pool.request("GET", f"{base}/oauth/token").status == 405
        assert pool.request("POST", f"{base}/oauth/other").status == 404


# -- Direct Access tokens -------------------------------------------------------------------


def test_direct_access_needs_a_pat_or_an_issued_token_once_users_exist(
    module_users_emu: Emulator, alice_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert direct(module_users_emu, None).status == 401
    unknown = direct(module_users_emu, "guess")
    assert (unknown.status, "unknown token" in unknown.json()["message"]) == (401, True)
    created = direct(module_users_emu, BOB_PAT, "POST", Http.job_body())
    assert module_users_emu.engine.get(created.json()["id"]).created_by == "bob"
    token = exchange(module_users_emu, assertion(alice_key)).body.decode()
    assert direct(module_users_emu, token).status == 200
    later = time.time() + 601
    monkeypatch.setattr(module_users_emu.authenticator, "wall", lambda: later)
    expired = direct(module_users_emu, token)
    assert expired.status == 401
    assert "expired" in expired.json()["message"]
    assert token not in expired.body.decode()


def test_without_users_the_emulator_stays_open(other_key: rsa.RSAPrivateKey) -> None:
    with serve(clock="manual") as emu:
        assert direct(emu, None).status == 200
        assert direct(emu, "anything").status == 200
        # No key to check the signature against: the claims are still checked.
        token = exchange(emu, assertion(other_key, user="CAROL")).body.decode()
        created = direct(emu, token, "POST", Http.job_body())
        assert emu.engine.get(created.json()["id"]).created_by == "CAROL"
        assert exchange(emu, assertion(other_key, account="ELSEWHERE")).status == 401
        with sql(emu, password="anything", user="dan") as connection:
            assert connection.cursor().execute(
                f"select CREATED_BY from {emu.app}.api.jobs"
            ).fetchall() == [("CAROL",)]


# -- SQL logins with the real connector -----------------------------------------------------


def test_key_pair_and_pat_logins_run_as_the_user(
    module_users_emu: Emulator, alice_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    key_file = tmp_path / "rsa_key.p8"
    key_file.write_bytes(
        alice_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    logins: list[dict[str, Any]] = [
        {"user": "alice", "authenticator": "SNOWFLAKE_JWT", "private_key": der(alice_key)},
        {"user": "ALICE", "authenticator": "SNOWFLAKE_JWT", "private_key_file": str(key_file)},
        {"user": "alice", "authenticator": "PROGRAMMATIC_ACCESS_TOKEN", "token": PAT},
    ]
    for login in logins:
        with sql(module_users_emu, **login) as connection, connection.cursor() as cursor:
            payload = json.dumps({"emulate": {"duration_s": 1}})
            cursor.execute(
                f"call {module_users_emu.app}.api.EXEC_JOB_ASYNC(?, ?, ?)", ["ML", "w", payload]
            )
            ((job_id,),) = cursor.fetchall()
            assert module_users_emu.engine.get(job_id).created_by == "ALICE"


def test_logins_that_do_not_prove_a_registered_user_fail(
    module_users_emu: Emulator, other_key: rsa.RSAPrivateKey
) -> None:
    failures: dict[str, dict[str, Any]] = {
        "is not the fingerprint": {
            "user": "alice",
            "authenticator": "SNOWFLAKE_JWT",
            "private_key": der(other_key),
        },
        "not ALICE's": {
            "user": "alice",
            "authenticator": "PROGRAMMATIC_ACCESS_TOKEN",
            "token": "x",
        },
        "not registered": {
            "user": "mallory",
            "authenticator": "PROGRAMMATIC_ACCESS_TOKEN",
            "token": PAT,
        },
        "no passwords": {"user": "alice", "password": "emulator"},
        "no public key": {
            "user": "bob",
            "authenticator": "SNOWFLAKE_JWT",
            "private_key": der(other_key),
        },
    }
    for fragment, login in failures.items():
        with pytest.raises(DatabaseError, match=fragment) as caught:
            connect(module_users_emu, **login)
        assert PAT not in str(caught.value)


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "fragment"),
    [
        ({"ALICE": {"public_key": "not pem"}}, "not a PEM public key"),
        ({"ALICE": {"pat": ""}}, "pat of user 'ALICE'"),
        ({"ALICE": {"password": "x"}}, "unknown keys ['password']"),
        ({"ALICE": "pat"}, "must map to"),
        ({"": {}}, "user names"),
        ("ALICE", "users must map"),
        ([("ALICE", {})], "users must map"),
    ],
)
def test_bad_users_are_refused_before_serving(users: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)), serve(users=users):
        pass


def test_a_token_lifetime_must_be_positive() -> None:
    with pytest.raises(ValueError, match="token_ttl_s"), serve(token_ttl_s=0):
        pass


def test_connector_arguments_are_copyable_into_a_config_file(module_users_emu: Emulator) -> None:
    assert {
        key: module_users_emu.snowflake[key] for key in ("protocol", "host", "port", "account")
    } == {
        "protocol": "http",
        "host": "127.0.0.1",
        "port": module_users_emu.port,
        "account": "emulator",
    }
