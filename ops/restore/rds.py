"""RDS: a point-in-time restore of the source instance to its latest restorable time (or a given
time) into a scratch instance in the same subnet group and security groups, single-AZ, without
deletion protection, tagged as a drill copy; deleted without a final snapshot afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

DRILL_TAG = {"Key": "langgraph:restore-drill", "Value": "true"}


def restore_request(source: dict[str, Any], scratch_id: str, target_time: dt.datetime | None) -> dict[str, Any]:
    """restore_db_instance_to_point_in_time's arguments for `source` (a describe_db_instances entry)."""
    request: dict[str, Any] = {
        "SourceDBInstanceIdentifier": source["DBInstanceIdentifier"],
        "TargetDBInstanceIdentifier": scratch_id,
        "DBInstanceClass": source["DBInstanceClass"],
        "MultiAZ": False,
        "PubliclyAccessible": False,
        "DeletionProtection": False,
        "CopyTagsToSnapshot": False,
        "Tags": [DRILL_TAG],
    }
    if target_time is None:
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreTime"] = target_time
    if source.get("DBSubnetGroup"):
        request["DBSubnetGroupName"] = source["DBSubnetGroup"]["DBSubnetGroupName"]
    groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]
    if groups:
        request["VpcSecurityGroupIds"] = groups
    return request


class RdsRestore:
    """Restore, wait until available, delete: `rds` is a boto3 RDS client."""

    def __init__(self, rds: Any, source_id: str, scratch_id: str, target_time: dt.datetime | None = None):
        self.rds, self.source_id, self.scratch_id, self.target_time = rds, source_id, scratch_id, target_time
        self.created = False

    def create(self) -> None:
        source = self.rds.describe_db_instances(DBInstanceIdentifier=self.source_id)["DBInstances"][0]
        self.rds.restore_db_instance_to_point_in_time(**restore_request(source, self.scratch_id, self.target_time))
        self.created = True

    def wait_ready(self, timeout: float, poll: float) -> str:
        """host:port of the scratch instance once available."""
        waiter = self.rds.get_waiter("db_instance_available")
        waiter.wait(DBInstanceIdentifier=self.scratch_id,
                    WaiterConfig={"Delay": max(int(poll), 1), "MaxAttempts": max(int(timeout / max(poll, 1)), 1)})
        endpoint = self.rds.describe_db_instances(DBInstanceIdentifier=self.scratch_id)["DBInstances"][0]["Endpoint"]
        return f"{endpoint['Address']}:{endpoint['Port']}"

    def teardown(self) -> list[str]:
        if not self.created:
            return []
        self.rds.delete_db_instance(DBInstanceIdentifier=self.scratch_id, SkipFinalSnapshot=True,
                                    DeleteAutomatedBackups=True)
        self.created = False
        return [f"RDS instance {self.scratch_id}"]
