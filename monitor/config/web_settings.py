"""The [web] table: where the web desk listens and the token that guards it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

DEFAULT_LISTEN = "127.0.0.1:8765"


@dataclass(frozen=True, slots=True)
class Listen:
    """A host and a port to serve on."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("config", "{message}", {"message": message})


def parse_listen(text: str) -> Listen:
    """``HOST:PORT`` (``[::1]:8765`` for IPv6) as a Listen; ValueError naming the mistake otherwise."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"bad listen address {text!r} (use HOST:PORT, e.g. {DEFAULT_LISTEN!r})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"bad listen address {text!r} (write an IPv6 address in brackets: '[::1]:8765')")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in listen address {text!r} (a number from 1 to 65535)")
    return Listen(host, int(port))


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any address


def exposure_problem(listen: Listen, token: str | None) -> str | None:
    """Why the desk may not listen there (a non-loopback address without a token), or None."""
    if token is None and not listen.loopback:
        return (
            f"listening on {listen} (not a loopback address) needs a token: "
            'set token = "${MONITOR_WEB_TOKEN}" in [web]'
        )
    return None


class WebSettings(BaseModel):
    """The [web] table. ``listen`` unset: ``monitor run`` serves no desk (``monitor web`` still can). The
    loader checks that a non-loopback ``listen`` comes with a token (``exposure_problem``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listen: Listen | None = None
    token: str | None = Field(default=None, repr=False)

    @field_validator("listen", mode="before")
    @classmethod
    def _parse_listen(cls, value: object) -> object:
        if not isinstance(value, str):
            raise _problem('expected an address such as "127.0.0.1:8765"')
        try:
            return parse_listen(value)
        except ValueError as error:
            raise _problem(str(error)) from error

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise _problem("must not be empty (leave token out to need none on loopback)")
        return value
