"""Registering provider resources and providers by type token, with what the typed classes send.

A provider package's typed classes cost their import on every plan (pulumi_aws's about a second;
kubernetes, random, tls and postgresql about 0.035 s together), for what is small and known: the
inputs under their camelCase names, the provider version, and per type a few additions (secret
inputs, output-only properties, aliases for renamed types, input defaults). `TokenResource` sends
exactly that, from a table of `TypedClass` per type token (`components/aws.py`,
`components/random_tls_postgresql.py`), and `TokenProvider` what a typed `Provider` sends, settings
read from the environment included (`components/kube.py`, `components/random_tls_postgresql.py`).
`tests/test_plan_imports.py` compares each, request for request, with its typed class.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import pulumi
from packaging.version import Version


@dataclass(frozen=True)
class TypedClass:
    """What a provider's typed class adds to the inputs and options of the resources it registers."""

    outputs: tuple[str, ...] = ()
    """Properties the provider fills in that the program may read: the class's output-only
    properties, and optional inputs the provider names when the program does not (`name`)."""
    secrets: tuple[str, ...] = ()
    """Inputs sent as secrets, and kept secret in the state the provider returns."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Input values the class sends when the program gives none."""
    former_types: tuple[str, ...] = ()
    """Type tokens the resource had before a rename: aliases keep it in place."""


def semver(pep440: str) -> str:
    """A Python package version as the semver string the engine expects (`7.51.1`, `7.0.0-alpha.2`)."""
    version = Version(pep440)
    major, minor, patch = version.release
    tags = {"a": "alpha", "b": "beta", "rc": "rc"}
    if version.pre is not None:
        prerelease: str | None = f"{tags[version.pre[0]]}.{version.pre[1]}"
    elif version.dev is not None:
        prerelease = f"dev.{version.dev}"
    else:
        prerelease = version.local
    return f"{major}.{minor}.{patch}" + (f"-{prerelease}" if prerelease else "")


@functools.cache
def provider_version(package: str) -> str:
    """The provider plugin version the typed classes of `package` (`aws`, `random`) ask for: the
    version of the installed `pulumi_<package>`, read without importing it."""
    return semver(importlib.metadata.version(f"pulumi_{package}"))


@functools.cache
def provider_options(package: str) -> pulumi.ResourceOptions:
    """What every typed class of `package` merges under the caller's options: the provider version
    (their plugin download URL is None). Built once: `ResourceOptions.merge` copies the options
    it is given and never changes them."""
    return pulumi.ResourceOptions(version=provider_version(package))


def _typed_options(package: str, opts: pulumi.ResourceOptions | None, former_types: tuple[str, ...] = (),
                   secrets: tuple[str, ...] = ()) -> pulumi.ResourceOptions:
    """The options in the typed classes' order: the version under the caller's options, the
    aliases for former types and the secret outputs over them."""
    options = pulumi.ResourceOptions.merge(provider_options(package), opts)
    if former_types:
        options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(
            aliases=[pulumi.Alias(type_=former) for former in former_types]))
    if secrets:
        options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(additional_secret_outputs=list(secrets)))
    return options


@functools.cache  # the same few property names, for every resource of a type
def _snake(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class TokenResource(pulumi.CustomResource):
    """A resource registered under its type token (`aws:s3/bucket:Bucket`) with its inputs named
    as the engine receives them (camelCase, nested keys too), as the type's entry in `TYPES` says.

    Every input and every output of the type is an attribute, an Output, under its engine name
    and, when that has more than one word, under its snake_case name too (`keyId`, `key_id`).
    Nested values stay as the provider returns them: dicts with camelCase keys.
    """

    TYPES: ClassVar[dict[str, TypedClass]]

    def __init__(self, type_: str, name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        declared = self.TYPES[type_]  # an unknown type is a KeyError: add it to TYPES from its typed class
        props = {**declared.defaults, **{k: v for k, v in inputs.items() if v is not None}}
        for key in declared.secrets:
            if key in props:
                props[key] = pulumi.Output.secret(props[key])
        props |= {key: None for key in declared.outputs if key not in props}
        super().__init__(type_, name, props,
                         _typed_options(type_.split(":")[0], opts, declared.former_types, declared.secrets))
        for key in props:
            if _snake(key) != key:
                setattr(self, _snake(key), getattr(self, key))


def env_text(name: str) -> str | None:
    return os.environ.get(name)


def env_bool(name: str) -> bool | None:
    """As the typed classes read a boolean setting: Go's spellings of true and false, else unset."""
    text = os.environ.get(name)
    return {"1": True, "t": True, "T": True, "true": True, "TRUE": True, "True": True, "0": False, "f": False,
            "F": False, "false": False, "FALSE": False, "False": False}.get(text) if text is not None else None


def env_int(name: str) -> int | None:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class TypedProvider:
    """What a provider package's typed `Provider` class does with its inputs."""

    json_inputs: tuple[str, ...] = ()
    """Inputs it types as other than strings: sent as JSON (`5432` as `"5432"`)."""
    secrets: tuple[str, ...] = ()
    """Inputs sent as secrets, and kept secret in the provider's state."""
    env_defaults: dict[str, Callable[[], Any]] = field(default_factory=dict)
    """Inputs it reads from the environment of `pulumi up` when the program gives none."""


class TokenProvider(pulumi.ProviderResource):
    """The provider of `package`, registered as its typed `Provider` class registers it."""

    def __init__(self, package: str, declared: TypedProvider, name: str, inputs: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        props: dict[str, Any] = dict(inputs)
        for key, default in declared.env_defaults.items():
            if props.get(key) is None:
                props[key] = default()
        for key, value in props.items():
            if value is not None and key in declared.json_inputs:
                props[key] = pulumi.Output.from_input(value).apply(pulumi.runtime.to_json)
            elif value is not None and key in declared.secrets:
                props[key] = pulumi.Output.secret(value)
        super().__init__(package, name, props, _typed_options(package, opts, secrets=declared.secrets))
