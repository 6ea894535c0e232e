import csv
import io
from datetime import UTC, datetime

from bot.debates.export import SUMMARY_HEADER, VOTER_HEADER, VoterRow, export_csv
from bot.debates.poll import PollSpec
from bot.debates.tally import Tally

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM for spreadsheets
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def make(anonymous: bool) -> tuple[PollSpec, Tally, list[VoterRow]]:
    spec = PollSpec(question="Best licence?", options=("MIT", "=cmd|calc"), anonymous=anonymous)
    voters = [VoterRow(1, "Ada, the first", 0, AT), VoterRow(2, "Bob", 1, None)]
    tally = Tally.from_votes([(v.member_id, v.option_index) for v in voters] + [(3, 0)], 2)
    return spec, tally, voters


def test_summary_and_voter_rows() -> None:
    spec, tally, voters = make(anonymous=False)
    rows = rows_of(export_csv(spec, tally, voters))
    assert rows[0] == ["question", "Best licence?"]
    assert rows[1] == ["voters", "3"]
    assert rows[3] == list(SUMMARY_HEADER)
    assert rows[4] == ["1", "MIT", "2", "66.7", "66.7"]
    assert rows[5] == ["2", "'=cmd|calc", "1", "33.3", "33.3"]  # formula defused
    assert rows[6] == []
    assert rows[7] == list(VOTER_HEADER)
    assert rows[8] == ["1", "Ada, the first", "1", "MIT", AT.isoformat()]
    assert rows[9] == ["2", "Bob", "2", "'=cmd|calc", ""]
    assert len(rows) == 10


def test_anonymous_poll_never_lists_voters() -> None:
    spec, tally, voters = make(anonymous=True)
    data = export_csv(spec, tally, voters)
    rows = rows_of(data)
    assert list(VOTER_HEADER) not in rows
    assert b"Ada" not in data and b"Bob" not in data
    assert len(rows) == 6


def test_no_voter_rows_given() -> None:
    spec, tally, _ = make(anonymous=False)
    assert len(rows_of(export_csv(spec, tally, None))) == 6
