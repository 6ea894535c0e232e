"""pol.is's public conversations in ``../shared/polis/`` (see its README): their vote matrices,
pol.is's own groups, and the adjusted Rand index to compare two groupings."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


def _find_polis() -> Path:
    """``shared/polis`` beside the checkout (or beside a folder above it, for a git worktree);
    ``AGORA_POLIS_DATA`` overrides it."""
    if "AGORA_POLIS_DATA" in os.environ:
        return Path(os.environ["AGORA_POLIS_DATA"])
    root = Path(__file__).resolve().parents[2]
    for folder in root.parents:
        if (folder / "shared" / "polis").is_dir():
            return folder / "shared" / "polis"
    return root.parent / "shared" / "polis"


POLIS_DIR = _find_polis()
CONVERSATIONS = (
    "brexit-consensus",
    "scoop-hivemind.biodiversity",
    "american-assembly.bowling-green",
)


@dataclass(frozen=True)
class Conversation:
    name: str
    votes: npt.NDArray[np.float64]  # participants × statements still in play
    participants: list[int]
    statements: list[int]
    polis_group: list[int | None]  # pol.is's group per participant (None: not placed)
    polis_groups: int  # the number of groups pol.is showed


def load(name: str, folder: Path = POLIS_DIR) -> Conversation:
    """Moderated-out statements (``moderated == -1``) are left out, as pol.is leaves them out."""
    base = folder / name
    with (base / "comments.csv").open(newline="") as handle:
        removed = {row["comment-id"] for row in csv.DictReader(handle) if row["moderated"] == "-1"}
    with (base / "summary.csv").open(newline="") as handle:
        summary = {row[0]: row[1] for row in csv.reader(handle) if len(row) >= 2}
    with (base / "participants-votes.csv").open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        first = header.index("n-disagree") + 1
        columns = [i for i in range(first, len(header)) if header[i] not in removed]
        participants, groups, rows = [], [], []
        for row in reader:
            participants.append(int(row[0]))
            groups.append(int(row[1]) if row[1] != "" else None)
            rows.append(
                [float(row[i]) if i < len(row) and row[i] != "" else np.nan for i in columns]
            )
    return Conversation(
        name=name,
        votes=np.array(rows, dtype=np.float64).reshape(len(rows), len(columns)),
        participants=participants,
        statements=[int(header[i]) for i in columns],
        polis_group=groups,
        polis_groups=int(summary["groups"]),
    )


def adjusted_rand_index(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Hubert and Arabie's adjusted Rand index of two labelings of the same items."""
    _, x = np.unique(np.asarray(a), return_inverse=True)
    _, y = np.unique(np.asarray(b), return_inverse=True)
    table = np.zeros((x.max() + 1, y.max() + 1))
    np.add.at(table, (x.ravel(), y.ravel()), 1)

    def pairs(counts: npt.NDArray[np.float64]) -> float:
        return float((counts * (counts - 1) / 2).sum())

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * cols / pairs(np.array([table.sum()]))
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)
