"""Generated passwords, the logging CA's key and certificate, and the database's roles and grants:
the random, tls and postgresql resources the program registers, by type token (see
`components/by_token.py`), and the postgresql provider they are created through.
"""

from __future__ import annotations

from typing import Any

import pulumi

from .by_token import TokenProvider, TokenResource, TypedClass, TypedProvider, env_int, env_text

# The types the program registers, as pulumi-random 4, pulumi-tls 5 and pulumi-postgresql 3
# declare them (the `_internal_init` of each class).
TYPES: dict[str, TypedClass] = {
    "random:index/randomPassword:RandomPassword": TypedClass(("bcryptHash", "result"),
                                                             secrets=("bcryptHash", "result")),
    "random:index/randomString:RandomString": TypedClass(("result",)),
    "tls:index/privateKey:PrivateKey": TypedClass(
        ("privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8", "publicKeyFingerprintMd5",
         "publicKeyFingerprintSha256", "publicKeyOpenssh", "publicKeyPem"),
        secrets=("privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8")),
    "tls:index/selfSignedCert:SelfSignedCert": TypedClass(
        ("certPem", "keyAlgorithm", "readyForRenewal", "validityEndTime", "validityStartTime"),
        secrets=("privateKeyPem", "privateKeyPemWo")),
    "postgresql:index/database:Database": TypedClass(),
    "postgresql:index/defaultPrivileges:DefaultPrivileges": TypedClass(
        former_types=("postgresql:index/defaultPrivileg:DefaultPrivileg",)),
    "postgresql:index/extension:Extension": TypedClass(),
    "postgresql:index/grant:Grant": TypedClass(),
    "postgresql:index/grantRole:GrantRole": TypedClass(),
    "postgresql:index/role:Role": TypedClass(secrets=("password", "passwordWo")),
}


class Resource(TokenResource):
    """A random, tls or postgresql resource, as `TYPES` says (`result`, `cert_pem`, `name`, ...)."""

    TYPES = TYPES


def random_password(name: str, length: int, opts: pulumi.ResourceOptions | None = None) -> Resource:
    """Letters and digits only (no special characters: the passwords go into URLs and config files
    unquoted); its `result` is secret."""
    return Resource("random:index/randomPassword:RandomPassword", name, {"length": length, "special": False}, opts)


POSTGRESQL_PROVIDER = TypedProvider(
    json_inputs=("awsRdsIamAuth", "azureIdentityAuth", "clientcert", "connectTimeout", "maxConnections", "port",
                 "superuser"),
    secrets=("password",),
    env_defaults={"connectTimeout": lambda: env_int("PGCONNECT_TIMEOUT") or 180, "sslmode": lambda: env_text("PGSSLMODE")})


def postgresql_provider(name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> TokenProvider:
    """The postgresql provider, `inputs` named as the engine receives them (`connectTimeout`)."""
    return TokenProvider("postgresql", POSTGRESQL_PROVIDER, name, inputs, opts)
