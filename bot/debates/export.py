"""A poll's results as CSV, for ``/poll export``; times in a member's data export.

The file has a summary table (one row per option), then, separated by an empty line, one row
per member's choice, in the order given. Voter rows are written only for polls that are not anonymous: passing
them for an anonymous poll is ignored, so a cog mistake cannot leak who voted what.
Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``) are
prefixed with ``'``. The bytes are UTF-8 with a byte-order mark so spreadsheet programs read
accents correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.debates.poll import PollSpec
from bot.debates.tally import Tally

SUMMARY_HEADER = ("option_number", "option", "votes", "percent_of_votes", "percent_of_voters")
VOTER_HEADER = ("member_id", "member_name", "option_number", "option", "voted_at")


@dataclass(frozen=True)
class VoterRow:
    """One member's choice of one option (several rows for a multiple-choice voter)."""

    member_id: int
    member_name: str
    option_index: int
    voted_at: datetime | None = None


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def export_csv(spec: PollSpec, tally: Tally, voter_rows: Sequence[VoterRow] | None) -> bytes:
    """The CSV file's bytes; see the module docstring for its shape."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("question", _cell(spec.question)))
    writer.writerow(("voters", tally.voters))
    writer.writerow(())
    writer.writerow(SUMMARY_HEADER)
    of_votes = tally.percentages()
    of_voters = tally.voter_percentages()
    for index, option in enumerate(spec.options):
        writer.writerow(
            (
                index + 1,
                _cell(option),
                tally.counts[index],
                f"{of_votes[index]:.1f}",
                f"{of_voters[index]:.1f}",
            )
        )
    if voter_rows is not None and not spec.anonymous:
        writer.writerow(())
        writer.writerow(VOTER_HEADER)
        for row in voter_rows:
            writer.writerow(
                (
                    row.member_id,
                    _cell(row.member_name),
                    row.option_index + 1,
                    _cell(spec.options[row.option_index]),
                    row.voted_at.isoformat() if row.voted_at else "",
                )
            )
    return buffer.getvalue().encode("utf-8-sig")


def iso_utc(moment: datetime) -> str:
    """A moment in a member's data export: ISO 8601 in UTC, with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
