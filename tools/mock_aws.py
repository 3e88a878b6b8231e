"""What the offline plan's mock AWS provider answers: invokes with realistic results, in the
tokens and field names of pulumi-aws 7.51 (policy documents as terraform-provider-aws renders them,
the stack's account and region, an EKS cluster's security group, a Secrets Manager secret)."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any, Callable

EXAMPLE_ACCOUNT_ID = "123456789012"
"""AWS's documentation account id: what getCallerIdentity answers when the stack names none."""


@dataclass(frozen=True)
class Aws:
    """The account and region the stack's AWS provider would talk to."""

    account_id: str
    region: str

    @classmethod
    def from_config(cls, project: str, config: dict[str, str]) -> Aws:
        try:
            section = json.loads(config.get(f"{project}:aws") or "{}")
        except ValueError:  # the program refuses it; the mock only needs defaults
            section = {}
        section = section if isinstance(section, dict) else {}
        region = config.get("aws:region") or section.get("region") or "us-east-1"
        return cls(str(section.get("account_id") or EXAMPLE_ACCOUNT_ID), str(region))


def _partition(region: str) -> dict[str, str]:
    name, suffix = ("aws-cn", "amazonaws.com.cn") if region.startswith("cn-") else \
        ("aws-us-gov", "amazonaws.com") if region.startswith("us-gov-") else ("aws", "amazonaws.com")
    return {"id": name, "partition": name, "dnsSuffix": suffix,
            "reverseDnsPrefix": ".".join(reversed(suffix.split(".")))}


_REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)",
                 "eu-west-1": "Europe (Ireland)", "eu-central-1": "Europe (Frankfurt)"}
_COMPASS = {"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "central": "c",
            "north": "n", "south": "s", "east": "e", "west": "w"}


def _get_region(args: dict, aws: Aws) -> dict:
    region = args.get("region") or args.get("name") or aws.region
    return {"id": region, "name": region, "region": region, "description": _REGION_NAMES.get(region, region),
            "endpoint": f"ec2.{region}.{_partition(region)['dnsSuffix']}"}


def _get_partition(args: dict, aws: Aws) -> dict:
    return _partition(aws.region)


def _get_caller_identity(args: dict, aws: Aws) -> dict:
    # CI plans under an assumed role; the role and session names are examples.
    partition = _partition(aws.region)["partition"]
    return {"id": aws.account_id, "accountId": aws.account_id, "userId": "AROAEXAMPLEPLANROLE01:offline-plan",
            "arn": f"arn:{partition}:sts::{aws.account_id}:assumed-role/offline-plan/offline-plan"}


def _get_availability_zones(args: dict, aws: Aws) -> dict:
    region = args.get("region") or aws.region
    parts = region.split("-")
    zone_prefix = parts[0] + "".join(_COMPASS.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]
    zones = [(f"{region}{letter}", f"{zone_prefix}-az{n}") for n, letter in enumerate("abc", 1)]
    zones = [(name, zone_id) for name, zone_id in zones
             if name not in (args.get("excludeNames") or ()) and zone_id not in (args.get("excludeZoneIds") or ())]
    echoed = {k: args[k] for k in ("allAvailabilityZones", "excludeNames", "excludeZoneIds", "filters", "state")
              if args.get(k) is not None}
    return {**echoed, "id": region, "region": region, "groupNames": [region],
            "names": [name for name, _ in zones], "zoneIds": [zone_id for _, zone_id in zones]}


def _policy_strings(values: list[str]) -> str | list[str]:
    """A set of strings as the provider writes it: one as a string, more in reverse order."""
    unique = sorted(set(values), reverse=True)
    return unique[0] if len(unique) == 1 else unique


def _with_variables(value: Any) -> Any:
    # `&{aws:username}` is how a policy variable is written without Terraform interpolating it.
    if isinstance(value, list):
        return [v.replace("&{", "${") for v in value]
    return value.replace("&{", "${")


def _principals(blocks: list[dict]) -> Any:
    if len(blocks) == 1 and blocks[0].get("type") == "*" and set(blocks[0].get("identifiers") or ()) == {"*"}:
        return "*"
    merged: dict[str, Any] = {}
    for block in blocks:
        ids = _with_variables(_policy_strings(block.get("identifiers") or []))
        before = merged.get(block["type"])
        if before is None:
            merged[block["type"]] = ids
        else:
            merged[block["type"]] = ([before] if isinstance(before, str) else before) + \
                                    ([ids] if isinstance(ids, str) else ids)
    return {k: merged[k] for k in sorted(merged)}


def _conditions(blocks: list[dict]) -> dict:
    merged: dict[str, dict[str, list[str]]] = {}
    for block in blocks:
        merged.setdefault(block["test"], {}).setdefault(block["variable"], []).extend(
            _with_variables(list(block.get("values") or [])))
    return {test: {var: values[0] if len(values) == 1 else values for var, values in sorted(merged[test].items())}
            for test in sorted(merged)}


def _statement(args: dict) -> dict:
    """One `statements` entry of getPolicyDocument as an IAM policy statement."""
    out: dict[str, Any] = {}
    if args.get("sid"):
        out["Sid"] = args["sid"]
    out["Effect"] = args.get("effect") or "Allow"
    for arg, key, render in (("actions", "Action", _policy_strings), ("notActions", "NotAction", _policy_strings),
                             ("resources", "Resource", lambda v: _with_variables(_policy_strings(v))),
                             ("notResources", "NotResource", lambda v: _with_variables(_policy_strings(v))),
                             ("principals", "Principal", _principals), ("notPrincipals", "NotPrincipal", _principals),
                             ("conditions", "Condition", _conditions)):
        if args.get(arg):
            out[key] = render(args[arg])
    return out


def _merge_statements(into: dict, statements: list[dict]) -> None:
    """Later statements replace earlier ones with the same Sid; the rest are appended."""
    for statement in statements:
        sid = statement.get("Sid")
        same = [i for i, s in enumerate(into["Statement"]) if sid and s.get("Sid") == sid]
        if same:
            into["Statement"][same[0]] = statement
        else:
            into["Statement"].append(statement)


def _merge_document(into: dict, document: dict) -> None:
    if document.get("Id"):
        into["Id"] = document["Id"]
    if document.get("Version", "") > into.get("Version", ""):
        into["Version"] = document["Version"]
    statements = document.get("Statement") or []
    _merge_statements(into, statements if isinstance(statements, list) else [statements])


def _go_json(value: Any, indent: int | None) -> str:
    """JSON as Go's encoding/json writes it: UTF-8, with <, >, & and line separators escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, separators=None if indent else (",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _get_policy_document(args: dict, aws: Aws) -> dict:
    """Source documents, then the statements, then override documents, merged by Sid; rendered
    indented (`json`) and compact (`minifiedJson`); the id is the CRC-32 of `json`."""
    merged: dict[str, Any] = {"Version": "", "Statement": []}
    for source in args.get("sourcePolicyDocuments") or []:
        _merge_document(merged, json.loads(source))
    own: dict[str, Any] = {"Version": args.get("version") or "2012-10-17", "Statement": []}
    if args.get("policyId"):
        own["Id"] = args["policyId"]
    own["Statement"] = [_statement(s) for s in args.get("statements") or []]
    _merge_document(merged, own)
    for override in args.get("overridePolicyDocuments") or []:
        _merge_document(merged, json.loads(override))
    document = {"Version": merged["Version"], **({"Id": merged["Id"]} if merged.get("Id") else {})}
    if merged["Statement"]:
        document["Statement"] = merged["Statement"]
    rendered = _go_json(document, indent=2)
    echoed = {k: v for k, v in args.items() if v is not None}
    return {**echoed, "version": own["Version"], "id": str(zlib.crc32(rendered.encode())), "json": rendered,
            "minifiedJson": _go_json(document, indent=None)}


def _get_cluster(args: dict, aws: Aws) -> dict:
    """An existing EKS cluster: the parts the data tier reads (its security group, VPC, OIDC issuer)."""
    name = args.get("name") or "cluster"
    digest = f"{zlib.crc32(name.encode()):08x}"
    arn = f"arn:{_partition(aws.region)['partition']}:eks:{aws.region}:{aws.account_id}:cluster/{name}"
    return {"id": name, "name": name, "arn": arn, "status": "ACTIVE", "version": "1.31",
            "endpoint": f"https://{digest.upper()}.gr7.{aws.region}.eks.amazonaws.com",
            "vpcConfig": {"clusterSecurityGroupId": f"sg-0{digest}{digest[:8]}", "vpcId": "vpc-0a1b2c3d4e5f60718",
                          "subnetIds": [], "securityGroupIds": [], "endpointPrivateAccess": True,
                          "endpointPublicAccess": False, "publicAccessCidrs": []},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{aws.region}.amazonaws.com/id/{digest.upper() * 4}"}]}]}


def _get_secret_version(args: dict, aws: Aws) -> dict:
    """A Secrets Manager secret as RDS keeps a managed master password: JSON with username and password.
    The password is a placeholder; the plan masks it anyway."""
    secret_id = args.get("secretId") or ""
    return {"id": f"{secret_id}|AWSCURRENT", "arn": secret_id, "secretId": secret_id, "versionId": "offline-plan",
            "versionStage": "AWSCURRENT", "versionStages": ["AWSCURRENT"], "createdDate": "2026-01-01T00:00:00Z",
            "secretString": json.dumps({"username": "offline", "password": "offline-plan-placeholder"})}


# Service and resource path of the ARNs AWS gives resources the program reads back (role ARNs in trust
# policies, key ARNs in grants); other types get no ARN.
_ARNS: dict[str, tuple[str, str, bool]] = {
    "aws:iam/role:Role": ("iam", "role/{name}", False),
    "aws:kms/key:Key": ("kms", "key/{id}", True),
    "aws:s3/bucket:Bucket": ("s3", "{name}", None),
    "aws:secretsmanager/secret:Secret": ("secretsmanager", "secret:{name}", True),
    "aws:rds/instance:Instance": ("rds", "db:{name}", True),
    "aws:rds/proxy:Proxy": ("rds", "db-proxy:{id}", True),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("elasticache", "replicationgroup:{name}", True),
}


# The property each type names itself by when the program gives none: Pulumi's auto-naming fills it in
# at preview already (the logical name plus a random suffix; the plan keeps the logical name), so
# resources that refer to it by name (a subnet group in an instance, a proxy in its target group) show it.
_AUTONAMED: dict[str, str] = {
    "aws:ec2/securityGroup:SecurityGroup": "name",
    "aws:elasticache/parameterGroup:ParameterGroup": "name",
    "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
    "aws:elasticache/subnetGroup:SubnetGroup": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/rolePolicy:RolePolicy": "name",
    "aws:rds/instance:Instance": "identifier",
    "aws:rds/parameterGroup:ParameterGroup": "name",
    "aws:rds/proxy:Proxy": "name",
    "aws:rds/subnetGroup:SubnetGroup": "name",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:secretsmanager/secret:Secret": "name",
}


def created_state(type_: str, name: str, inputs: dict, aws: Aws) -> dict:
    """What AWS fills in on create that programs read: the name Pulumi gives it, the ARN, endpoints of
    databases and caches."""
    named = {_AUTONAMED[type_]: inputs.get(_AUTONAMED[type_]) or name} if type_ in _AUTONAMED else {}
    if type_ not in _ARNS:
        return named
    service, path, regional = _ARNS[type_]
    resource_name = inputs.get("name") or inputs.get("identifier") or inputs.get("bucket") or name
    partition = _partition(aws.region)["partition"]
    region = "" if regional is None else (aws.region if regional else "")
    account = "" if regional is None else aws.account_id
    arn = f"arn:{partition}:{service}:{region}:{account}:" + path.format(
        name=resource_name, id=f"{zlib.crc32(name.encode()):08x}-0000-4000-8000-{zlib.crc32(name[::-1].encode()):012x}")
    state = {**named, "arn": arn}
    if type_ == "aws:rds/instance:Instance":
        host = f"{resource_name}.c0example.{aws.region}.rds.amazonaws.com"
        state |= {"identifier": resource_name, "address": host, "endpoint": f"{host}:5432"}
    elif type_ == "aws:rds/proxy:Proxy":
        state["endpoint"] = f"{resource_name}.proxy-c0example.{aws.region}.rds.amazonaws.com"
    elif type_ == "aws:kms/key:Key":
        state["keyId"] = arn.rsplit("/", 1)[1]
    return state


INVOKES: dict[str, Callable[[dict, Aws], dict]] = {
    "aws:iam/getPolicyDocument:getPolicyDocument": _get_policy_document,
    "aws:index/getCallerIdentity:getCallerIdentity": _get_caller_identity,
    "aws:index/getRegion:getRegion": _get_region,
    "aws:index/getPartition:getPartition": _get_partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _get_availability_zones,
    "aws:eks/getCluster:getCluster": _get_cluster,
    "aws:secretsmanager/getSecretVersion:getSecretVersion": _get_secret_version,
}
