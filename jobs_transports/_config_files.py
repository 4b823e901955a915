"""Where users keep their connection settings, and reading them: the three file shapes.

Looked for in this order, the first file found is used: `RAI_CONFIG_FILE_PATH`; ``raiconfig.yaml``
or ``raiconfig.yml`` in the working directory, each parent, then ``~/.rai/``; ``raiconfig.toml``
in the same places; Snowflake's ``connections.toml`` and the ``[connections.NAME]`` tables of its
``config.toml`` (in ``$SNOWFLAKE_HOME``, else ``~/.snowflake/``). Each file shape is read into one
flat mapping of settings (profile overlays applied, one connection picked), with the reason for
each choice, for `_account_config` to check and type.
"""

from __future__ import annotations

import enum
import logging
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from jobs_core import JobConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover (exercised on 3.10 only)
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    import yaml

log = logging.getLogger("jobs_transports.accounts")


RENAMED = {
    "private_key_file": "private_key_path",
    "private_key_file_pwd": "private_key_passphrase",
    "use_direct_access": "direct_access",
    "rai_app_name": "app",
}
"""Older spellings of settings -> their current names."""


class Shape(enum.Enum):
    """Which of the file formats a file is written in."""

    RAI_YAML = "raiconfig.yaml"
    RAI_TOML = "raiconfig.toml"
    SNOWFLAKE_CONNECTIONS = "Snowflake connections.toml"
    SNOWFLAKE_CONFIG = "Snowflake config.toml"


@attrs.frozen
class Found:
    """A configuration file and why it is the one used."""

    path: Path
    shape: Shape
    why: str


@attrs.frozen
class Section:
    """The settings of one profile and connection of a file, flat, with where they came from."""

    found: Found
    settings: Mapping[str, Any] = attrs.field(repr=False)
    profile: str | None = None
    profile_why: str = ""
    connection: str | None = None
    connection_why: str = ""

    def where(self) -> str:
        """Return the file, profile and connection, for error messages."""
        parts = [str(self.found.path)]
        if self.profile is not None:
            parts.append(f"profile {self.profile!r}")
        if self.connection is not None:
            parts.append(f"connection {self.connection!r}")
        return ", ".join(parts)


def _shape_of(path: Path) -> Shape:
    if path.suffix in (".yaml", ".yml"):
        return Shape.RAI_YAML
    if path.name == "connections.toml":
        return Shape.SNOWFLAKE_CONNECTIONS
    if path.name == "config.toml" and path.parent.name in (".snowflake", "snowflake"):
        return Shape.SNOWFLAKE_CONFIG
    return Shape.RAI_TOML


def _is_file(path: Path) -> bool:
    """Return whether `path` is a file; one that cannot be looked at (a folder on the way that
    the user may not search) is not, with a warning: the search goes on, as Snowflake's does."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        log.warning("%s: cannot be looked at (%s); skipped", path, exc.strerror)
        return False


def _upwards(names: tuple[str, ...], home_dir: Path) -> Path | None:
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents, home_dir):
        for name in names:
            candidate = folder / name
            if _is_file(candidate):
                return candidate
    return None


def find_file(config_file: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Found | None:
    """Return the configuration file to use, or None when there is none.

    Raises:
        JobConfigurationError: `config_file` or `RAI_CONFIG_FILE_PATH` names no file.
    """
    for given, why in (
        (config_file, "config_file argument"),
        (env.get("RAI_CONFIG_FILE_PATH"), "RAI_CONFIG_FILE_PATH"),
    ):
        if given:
            path = Path(given).expanduser()
            try:
                if not stat.S_ISREG(path.stat().st_mode):
                    raise JobConfigurationError(f"{why}: {path} is not a file")
            except OSError as exc:
                raise JobConfigurationError(f"{why}: {path}: {exc.strerror}") from exc
            return Found(path, _shape_of(path), why)
    rai_home = Path.home() / ".rai"
    for names in (("raiconfig.yaml", "raiconfig.yml"), ("raiconfig.toml",)):
        nearest = _upwards(names, rai_home)
        if nearest is not None:
            place = "~/.rai" if nearest.parent == rai_home else "the working directory or a parent"
            return Found(nearest, _shape_of(nearest), f"{nearest.name} found in {place}")
    snowflake_home = Path(env.get("SNOWFLAKE_HOME") or Path.home() / ".snowflake").expanduser()
    for name, shape in (
        ("connections.toml", Shape.SNOWFLAKE_CONNECTIONS),
        ("config.toml", Shape.SNOWFLAKE_CONFIG),
    ):
        candidate = snowflake_home / name
        if _is_file(candidate) and (
            shape is Shape.SNOWFLAKE_CONNECTIONS or _has_connections(candidate)
        ):
            return Found(candidate, shape, f"no raiconfig file; Snowflake's {name} is used")
    return None


def _has_connections(path: Path) -> bool:
    return isinstance(read_document(path, Shape.SNOWFLAKE_CONFIG).get("connections"), dict)


def read_document(path: Path, shape: Shape) -> dict[str, Any]:
    """Return the parsed contents of `path` as a mapping.

    Raises:
        JobConfigurationError: unreadable, a syntax error (with its line), or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a leading BOM is no key
    except (OSError, UnicodeDecodeError) as exc:
        raise JobConfigurationError(f"{path}: cannot be read: {exc}") from exc
    if shape is Shape.RAI_YAML:
        import yaml  # here: only a raiconfig.yaml needs it, and it is slow to import

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # PyYAML's own message quotes the offending line, which may hold a password: only
            # its position and the kind of problem are shown, and it is not chained.
            raise JobConfigurationError(f"{path}: YAML syntax error{_yaml_position(exc)}") from None
    else:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # The message says what and where ("... (at line 3, column 9)"), not the text.
            raise JobConfigurationError(f"{path}: TOML syntax error: {exc}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise JobConfigurationError(f"{path}: expected a mapping of settings at the top level")
    return _named_by_text(document)


def _named_by_text(
    table: dict[Any, Any], done: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return `table` with the keys of its tables as text, as TOML has them: YAML reads the
    connection and profile names ``1`` or ``2024`` as numbers, which arguments name as text.

    A table YAML shares between anchors is converted once, and one holding itself still does
    (`done`: the tables converted so far, by identity).
    """
    done = {} if done is None else done
    if id(table) in done:
        return done[id(table)]
    named: dict[str, Any] = {}
    done[id(table)] = named
    for key, value in table.items():
        named[str(key)] = _named_by_text(value, done) if isinstance(value, dict) else value
    return named


def _yaml_position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{where}: {problem}" if problem else where


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise JobConfigurationError(f"{where}: expected a table of settings")
    return value


def _merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `overlay` over it, table by table; a setting `overlay` writes in one
    spelling replaces the one `base` writes in another."""
    overridden = {RENAMED.get(key, key) for key in overlay}
    merged = {
        key: value
        for key, value in base.items()
        if key in overlay or RENAMED.get(key, key) not in overridden
    }
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _profile(
    document: Mapping[str, Any], table: str, profile: str | None, env: Mapping[str, str]
) -> tuple[str | None, str]:
    for name, why in (
        (profile, "profile argument"),
        (env.get("RAI_PROFILE"), "RAI_PROFILE"),
        (env.get("RAI_ACTIVE_PROFILE"), "RAI_ACTIVE_PROFILE"),
        (document.get("active_profile"), "active_profile in the file"),
    ):
        if name:
            return str(name), why
    if table == "profile" and isinstance(document.get("profile"), dict):
        if "default" in document["profile"]:
            return "default", "the profile named default"
        if len(document["profile"]) == 1:
            return next(iter(document["profile"])), "the only profile in the file"
    return None, "none chosen"


def _pick_connection(
    connections: Mapping[str, Any],
    chosen: tuple[tuple[Any, str], ...],
    where: str,
) -> tuple[str, str]:
    for given, why in chosen:
        if given is not None and given != "":
            name = str(given)  # a YAML default_connection: 1 names the connection "1"
            if name not in connections:
                known = ", ".join(map(repr, connections)) or "none"
                raise JobConfigurationError(
                    f"{where}: no connection {name!r} (named by {why}); connections: {known}"
                )
            return name, why
    if len(connections) == 1:
        return next(iter(connections)), "the only connection in the file"
    if not connections:
        raise JobConfigurationError(f"{where}: no connection is configured")
    raise JobConfigurationError(
        f"{where}: {len(connections)} connections ({', '.join(map(repr, connections))}) and no "
        f"default: name one with connection=, or set the file's default connection"
    )


def _profiled(
    document: Mapping[str, Any], table: str, profile: str | None, env: Mapping[str, str], where: str
) -> tuple[dict[str, Any], str | None, str]:
    """Return the file's settings with the chosen profile's overlay, the profile and why."""
    name, why = _profile(document, table, profile, env)
    base = {k: v for k, v in document.items() if k not in (table, "active_profile")}
    if name is None:
        return base, None, why
    profiles = _table(document.get(table) or {}, f"{where}: {table}")
    if name not in profiles:
        raise JobConfigurationError(f"{where}: no profile {name!r} (from {why})")
    return _merge(base, _table(profiles[name] or {}, f"{where}, profile {name!r}")), name, why


def _rai_yaml(
    found: Found, document: dict[str, Any], profile: str | None, connection: str | None,
    env: Mapping[str, str],
) -> Section:  # fmt: skip
    where = str(found.path)
    base, name, profile_why = _profiled(document, "profiles", profile, env, where)
    connections = _table(base.pop("connections", None) or {}, f"{where}: connections")
    chosen = _pick_connection(
        connections,
        (
            (connection, "connection argument"),
            (base.get("default_connection"), "default_connection"),
        ),
        where if name is None else f"{where}, profile {name!r}",
    )
    settings = _merge(base, _table(connections[chosen[0]], f"{where}: {chosen[0]}"))
    return Section(found, settings, name, profile_why, *chosen)


def _rai_toml(
    found: Found, document: dict[str, Any], profile: str | None, connection: str | None,
    env: Mapping[str, str],
) -> Section:  # fmt: skip
    where = str(found.path)
    if connection is not None:
        raise JobConfigurationError(
            f"{where}: raiconfig.toml has profiles, not connections: use profile="
        )
    base, name, profile_why = _profiled(document, "profile", profile, env, where)
    return Section(found, base, name, profile_why)


def _snowflake(
    found: Found, document: dict[str, Any], profile: str | None, connection: str | None,
    env: Mapping[str, str],
) -> Section:  # fmt: skip
    where = str(found.path)
    if profile is not None:
        raise JobConfigurationError(
            f"{where}: Snowflake's files have connections, not profiles: use connection="
        )
    tables = document
    if found.shape is Shape.SNOWFLAKE_CONFIG:
        tables = _table(document.get("connections"), f"{where}: connections")
    connections = {k: v for k, v in tables.items() if isinstance(v, dict)}
    chosen = _pick_connection(
        connections,
        (
            (connection, "connection argument"),
            (env.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME"), "SNOWFLAKE_DEFAULT_CONNECTION_NAME"),
            (document.get("default_connection_name"), "default_connection_name"),
            (_default_in_config_toml(found), "default_connection_name in config.toml"),
            ("default" if "default" in connections else None, "the connection named default"),
        ),
        where,
    )
    return Section(found, connections[chosen[0]], None, "", *chosen)


def _default_in_config_toml(found: Found) -> Any:
    """Return the ``default_connection_name`` of the config.toml beside `found`, a
    connections.toml (where Snowflake's connector reads it), or None.

    Raises:
        JobConfigurationError: that config.toml cannot be read or parsed.
    """
    config = found.path.with_name("config.toml")
    if found.shape is not Shape.SNOWFLAKE_CONNECTIONS or not _is_file(config):
        return None
    return read_document(config, Shape.SNOWFLAKE_CONFIG).get("default_connection_name")


_READERS = {
    Shape.RAI_YAML: _rai_yaml,
    Shape.RAI_TOML: _rai_toml,
    Shape.SNOWFLAKE_CONNECTIONS: _snowflake,
    Shape.SNOWFLAKE_CONFIG: _snowflake,
}


def read_section(
    found: Found, *, profile: str | None, connection: str | None, env: Mapping[str, str]
) -> Section:
    """Return the settings `found` holds for the chosen profile and connection.

    Raises:
        JobConfigurationError: the file cannot be read or parsed, or the profile or connection
            asked for (or the default one) does not exist, or is not a table of settings.
    """
    document = read_document(found.path, found.shape)
    return _READERS[found.shape](found, document, profile, connection, env)
