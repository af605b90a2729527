"""The streaming reader: prefixes, timestamps, continuation lines, chunk boundaries, encodings."""

from __future__ import annotations

import codecs
import io

import pytest

from auditor.logs import reader
from auditor.logs.reader import ReadStats, is_continuation, read_records, strip_prefix
from auditor.logs.symptoms import SCREEN


def records_of(text: str | bytes, needles: tuple[bytes, ...] = SCREEN) -> tuple[list, ReadStats]:
    data = text.encode() if isinstance(text, str) else text
    stats = ReadStats()
    return list(read_records(io.BytesIO(data), needles, "test", stats)), stats


@pytest.mark.parametrize(("line", "stripped", "timestamp"), [
    ("Oct 12 13:49:56 ip-xxx amazon-ssm-agent[1860]: caused by: Post x",
     "caused by: Post x", "Oct 12 13:49:56"),
    ("Nov  8 12:42:09 ip-172-31-81-174 amazon-ssm-agent.amazon-ssm-agent[1151]: #011status "
     "code: 400", "\tstatus code: 400", "Nov  8 12:42:09"),
    ("2025-08-14T10:53:16-04:00 amazon-ssm-agent.amazon-ssm-agent[346444]: 2025-08-14 "
     "10:53:16.2416 WARN x", "2025-08-14 10:53:16.2416 WARN x", "2025-08-14T10:53:16-04:00"),
    ("amazon-ssm-agent[3586]: status code: 404, request id:", "status code: 404, request id:",
     None),
    ("2020-06-23 15:05:36 INFO [HealthCheck] x", "2020-06-23 15:05:36 INFO [HealthCheck] x",
     None),
])
def test_prefixes_are_stripped_and_their_time_kept(line, stripped, timestamp):
    assert strip_prefix(line) == (stripped, timestamp)


@pytest.mark.parametrize(("line", "continues"), [
    ("caused by: Post https://ssm.eu-west-1.amazonaws.com/: dial tcp 10.0.0.1:443: i/o timeout",
     True),
    ("\tstatus code: 400, request id: abc", True),
    ("        status code: 400, request id: []", True),
    ("status code: 400, request id: XXXXX", True),
    ("EC2MetadataError: failed to make EC2Metadata request", True),
    ('<?xml version="1.0" encoding="iso-8859-1"?>', True),
    ("2020-06-23 15:05:36 INFO [HealthCheck] HealthCheck reporting agent health.", False),
    ("ERROR Health ping failed with error - EC2RoleRequestError: no EC2 instance role found",
     False),
    ("", False),
])
def test_continuation_lines_are_told_from_messages(line, continues):
    assert is_continuation(line) is continues


def test_a_record_joins_its_continuation_lines_and_keeps_them_verbatim():
    records, stats = records_of(
        "2020-06-23 15:05:36 INFO [HealthCheck] HealthCheck reporting agent health.\n"
        "2021-04-30 14:08:08 ERROR [HealthCheck] error when calling AWS APIs. error details - "
        "RequestError: send request failed\n"
        "caused by: Post https://ssm.eu-west-1.amazonaws.com/: dial tcp 10.0.0.1:443: i/o "
        "timeout\n"
        "\tstatus code: 400, request id: abc\n"
        "2021-04-30 14:08:09 INFO [HealthCheck] HealthCheck reporting agent health.\n")
    assert stats.lines == 5
    assert len(records) == 1
    record = records[0]
    assert record.timestamp == "2021-04-30 14:08:08"
    assert len(record.lines) == 3
    assert record.raw_lines[2] == "\tstatus code: 400, request id: abc"


def test_a_continuation_line_alone_finds_its_head():
    records, _ = records_of(
        "2020-10-12 13:49:56 INFO Health ping failed with\n"
        "caused by: Post https://ssm.eu-west-1.amazonaws.com/: dial tcp 10.0.0.1:443: i/o "
        "timeout\n", needles=(b"dial tcp",))
    assert len(records) == 1
    assert records[0].lines[0].endswith("Health ping failed with")


def test_records_across_chunk_boundaries_are_read_whole_and_once(monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_BYTES", 64)
    filler = "2020-06-23 15:05:36 INFO [HealthCheck] HealthCheck reporting agent health.\n"
    failure = ("2021-04-30 14:08:08 ERROR send request failed\n"
               "caused by: Post https://ssm.eu-west-1.amazonaws.com/: dial tcp 10.0.0.1:443: "
               "i/o timeout\n\tstatus code: 400, request id: abc\n")
    text = (filler * 7 + failure) * 20 + filler * 3
    records, stats = records_of(text)
    assert stats.lines == text.count("\n")
    assert len(records) == 20
    assert all(len(record.lines) == 3 for record in records)


def test_an_overlong_line_is_cut_not_held_whole():
    records, stats = records_of(b"x" * (3 << 20) + b" ERROR tail\n")
    assert stats.bytes == (3 << 20) + len(b" ERROR tail\n")
    assert len(records) == 1
    assert len(records[0].raw_lines[0]) <= reader.EVIDENCE_LINE_CHARS


def test_crlf_utf8_bom_invalid_utf8_and_utf16_are_read():
    records, _ = records_of(codecs.BOM_UTF8 + b"2020-01-01 00:00:00 ERROR bad \xff\xfe byte\r\n")
    assert records[0].raw_lines[0] == "2020-01-01 00:00:00 ERROR bad \ufffd\ufffd byte"
    utf16 = "2020-01-01 00:00:00 ERROR ThrottlingException: Rate exceeded\r\n".encode("utf-16")
    records, stats = records_of(utf16)
    assert stats.bytes == len(utf16)
    assert records[0].lines[0].endswith("ThrottlingException: Rate exceeded")


def test_binary_data_is_refused():
    with pytest.raises(reader.NotText):
        records_of(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 100)


def test_counted_needles_are_counted_without_records():
    stats = ReadStats()
    text = b"2020-06-23 15:06:24 INFO Schedule manager refreshed with 0 associations\n" * 5
    records = list(read_records(io.BytesIO(text), SCREEN, "t", stats,
                                {"ssm": (b"Schedule manager refreshed with",)}))
    assert records == []
    assert stats.counted == {"ssm": 5}


def test_failures_other_programs_wrote_to_syslog_are_not_the_agent_s(tmp_path):
    from auditor.logs.analysis import analyse

    log = tmp_path / "syslog"
    log.write_text(
        "Mar  3 10:00:01 ip-10-0-0-1 cloud-init[812]: url_helper.py[WARNING]: Calling "
        "'http://169.254.169.254/latest/api/token' failed [0/120s]: request error: "
        "Connection timed out\n"
        "Mar  3 10:00:02 ip-10-0-0-1 dockerd[901]: level=error msg=\"RequestError: send request "
        "failed\\ncaused by: Post https://logs.eu-west-1.amazonaws.com/: dial tcp 10.0.0.9:443: "
        "i/o timeout\"\n"
        "Mar  3 10:00:03 ip-10-0-0-1 systemd[1]: amazon-ssm-agent.service: Failed with result "
        "'exit-code'.\n"
        "Mar  3 10:00:04 ip-10-0-0-1 amazon-ssm-agent[1860]: 2024-03-03 10:00:04 INFO "
        "[HealthCheck] HealthCheck reporting agent health.\n")
    assert analyse([str(log)]).primary == "healthy"
    agent = log.read_text().replace("dockerd[901]", "amazon-ssm-agent[1860]")
    log.write_text(agent)
    assert analyse([str(log)]).primary == "endpoint_unreachable"
