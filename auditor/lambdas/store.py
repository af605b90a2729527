"""The audit bucket: where each thing lands, and JSON in and out.

    runs/date=D/execution=E/organization.json   the organization's answers (read once)
    runs/date=D/execution=E/units.json          the units: the Distributed Map's items
    runs/map-results/<map run>/manifest.json    the map's results (Step Functions' ResultWriter)
    reports/account=A/region=R/date=D/report.json    a unit's report (audit_unit's document)
    reports/account=A/region=R/date=D/findings.json  its findings (ASFF, as imported)
    summaries/date=D/execution=E/summary.json   every unit's entry and the run's totals

Partitions in the Hive style (``name=value``), so that Athena or Glue can query the reports as
they are. Two runs on the same day write the same report keys: the last one wins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

REPORTS_PREFIX = "reports/"
RUNS_PREFIX = "runs/"
MAP_RESULTS_PREFIX = "runs/map-results"
SUMMARIES_PREFIX = "summaries/"


@dataclass(frozen=True)
class Run:
    """One execution of the state machine: its date (UTC) and name."""

    date: str  # YYYY-MM-DD
    execution: str

    @classmethod
    def of(cls, started: str, execution: str) -> Run:
        """From Step Functions' ``$$.Execution.StartTime`` and ``$$.Execution.Name``."""
        if not re.match(r"^\d{4}-\d{2}-\d{2}", started or ""):
            raise ValueError(f"not a start time: {started!r}")
        return cls(started[:10], re.sub(r"[^A-Za-z0-9_.-]", "-", execution or "run"))

    @property
    def prefix(self) -> str:
        return f"{RUNS_PREFIX}date={self.date}/execution={self.execution}/"

    @property
    def organization_key(self) -> str:
        return self.prefix + "organization.json"

    @property
    def units_key(self) -> str:
        return self.prefix + "units.json"

    @property
    def summary_key(self) -> str:
        return f"{SUMMARIES_PREFIX}date={self.date}/execution={self.execution}/summary.json"

    def unit_prefix(self, account_id: str, region: str) -> str:
        return f"{REPORTS_PREFIX}account={account_id}/region={region}/date={self.date}/"

    def report_key(self, account_id: str, region: str) -> str:
        return self.unit_prefix(account_id, region) + "report.json"

    def findings_key(self, account_id: str, region: str) -> str:
        return self.unit_prefix(account_id, region) + "findings.json"

    def to_dict(self) -> dict[str, str]:
        return {"date": self.date, "execution": self.execution}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        return cls(str(data["date"]), str(data["execution"]))


class Store:
    """JSON objects in one bucket (the bucket's key encrypts them; TLS only)."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket = bucket
        self.client = client

    def put_json(self, key: str, data: Any) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key,
                               Body=json.dumps(data, separators=(",", ":")).encode(),
                               ContentType="application/json")

    def get_json(self, key: str, missing: Any = ...) -> Any:
        """The object's JSON; ``missing`` when there is no such key (when given)."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            if missing is ...:
                raise
            return missing
        return json.loads(answer["Body"].read())
