"""The checkpoint object store, reached with the app's own credentials: the access key in the
app's connection Secret (SeaweedFS, an external store), or the app's IAM role (S3 with IRSA),
assumed with the caller's credentials where its trust policy allows."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..kube import TIMEOUT_SECONDS, ApiException
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor

# Where the app writes under the bucket (components.checkpoint_store.s3_settings.APP_PREFIX).
APP_PREFIX = "checkpoints/"
SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def _secret_credentials(doctor: Doctor) -> dict[str, str] | None:
    name = doctor.outputs.get("connection_secret_name")
    if not name:
        return None
    try:
        secret = doctor.kube.core.read_namespaced_secret(name, doctor.outputs.require("namespace"),
                                                         _request_timeout=TIMEOUT_SECONDS)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    data = secret.data or {}
    if not all(key in data for key in SECRET_KEYS):
        return None
    access_key, secret_key = (base64.b64decode(data[key]).decode() for key in SECRET_KEYS)
    return {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}


def _role_credentials(role_arn: str, region: str | None) -> dict[str, str]:
    reply = boto3.client("sts", region_name=region).assume_role(RoleArn=role_arn, RoleSessionName="ops-doctor")
    credentials = reply["Credentials"]
    return {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"]}


def object_store(doctor: Doctor) -> list[Check]:
    outputs = doctor.outputs
    bucket, region = outputs.require("checkpoint_bucket"), outputs.get("checkpoint_region")
    credentials, source = _secret_credentials(doctor), f"Secret {outputs.get('connection_secret_name')}"
    status_if_ok = Status.OK
    if credentials is None and outputs.get("app_iam_role_arn"):
        try:
            credentials, source = _role_credentials(outputs.get("app_iam_role_arn"), region), "the app's IAM role"
        except (BotoCoreError, ClientError) as error:
            credentials, source = {}, f"the caller's credentials (cannot assume the app's role: {error})"
            status_if_ok = Status.WARN
    elif credentials is None:
        credentials, source = {}, "the caller's credentials (no app credentials found)"
        status_if_ok = Status.WARN
    s3 = boto3.client("s3", endpoint_url=outputs.get("checkpoint_endpoint"), region_name=region,
                      config=Config(connect_timeout=doctor.settings.timeout, read_timeout=doctor.settings.timeout,
                                    retries={"max_attempts": 1}), **credentials)
    try:
        s3.head_bucket(Bucket=bucket)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=APP_PREFIX, MaxKeys=1)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        return [Check("object-store", Status.FAIL, code, f"bucket {bucket} with {source}", RUNBOOKS["object-store"])]
    except BotoCoreError as error:
        return [Check("object-store", Status.FAIL, "unreachable", f"{error}", RUNBOOKS["object-store"])]
    value = "bucket readable" + (", objects under " + APP_PREFIX if listed.get("KeyCount") else "")
    return [Check("object-store", status_if_ok, value, f"bucket {bucket} with {source}",
                  RUNBOOKS["object-store"] if status_if_ok else None, {"bucket": bucket, "credentials": source})]
