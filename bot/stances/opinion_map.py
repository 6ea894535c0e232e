"""The opinion map, pol.is's method (``/stance statement``, ``/stance vote``, ``/stance map``).

Input is a plain vote matrix, members × statements: +1 agree, -1 disagree, 0 pass, NaN unseen,
over the statements still in play (a statement a manager removed is simply not a column: it
takes no part in the math). Where the matrix comes from (kept up to date per vote, or built from
the vote rows) is the repository's business; :func:`opinion_map_from_votes` builds it from rows.

1. **Who is placed**: members who voted (pass included) on at least ``min(7, statements)``
   statements. With fewer than 3 of them nobody is placed (a group of 1-2 would show their votes).
2. **Projection**: pol.is's PCA with mean imputation and sparsity-aware scaling, fitted on every
   member with a vote (as pol.is does), see :mod:`bot.stances.clustering`.
3. **Groups**: base clusters (at most 100), then k = 2..5 by silhouette with pol.is's cap of
   ``2 + base clusters // 12`` groups and Agora's no-group-under-3-members guard.
4. **Representative statements** and **group-informed consensus** (agree and disagree), see
   :mod:`bot.stances.repness`.

The same matrix and seed always give the same map (seeded ``numpy.random.Generator``, fixed
component signs, groups named A, B, ... from the largest).

Cost for n members and m statements (m ≤ n): O(n·m²) for the covariance, O(m³) for its
eigenvectors, O(n·100·iterations) for the base clusters; the rest works on ≤ 100 points.
2,000 × 200 takes about 150 ms of CPU, most of it the seeded clustering runs
(``bench/bench_stances_domain.py``); numpy's BLAS is kept on one thread meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.stances.clustering import (
    MAX_GROUPS,
    FloatArray,
    IntArray,
    group_members,
    one_blas_thread,
    project,
)
from bot.stances.repness import (
    ConsensusStatement,
    RepresentativeStatement,
    consensus_statements,
    representative_statements,
    tally_by_group,
)
from bot.stances.statistics import DEFAULT_MIN_BUCKET

MIN_VOTES = 7
#: The map shows no group smaller than this (a group's agree rates would describe 1-2 people).
MIN_GROUP_SIZE = DEFAULT_MIN_BUCKET
GROUP_NAMES = "ABCDE"

__all__ = [
    "ConsensusStatement",
    "Group",
    "OpinionMap",
    "RepresentativeStatement",
    "build_opinion_map",
    "opinion_map_from_votes",
    "participation_mask",
]


def participation_mask(votes: FloatArray, min_votes: int | None = None) -> npt.NDArray[np.bool_]:
    """Members (rows) who voted on at least ``min(min_votes, n_statements)`` statements."""
    threshold = min(MIN_VOTES if min_votes is None else min_votes, votes.shape[1])
    seen = np.count_nonzero(~np.isnan(votes), axis=1)
    return (seen >= threshold) & (seen > 0)


@dataclass(frozen=True, slots=True)
class Group:
    name: str  # "A", "B", ... (largest group first)
    member_ids: tuple[int, ...]
    centroid: tuple[float, float]
    representative: tuple[RepresentativeStatement, ...]

    @property
    def size(self) -> int:
        return len(self.member_ids)


@dataclass(frozen=True, eq=False)
class OpinionMap:
    """The computed map. ``coords`` and ``labels`` follow ``member_ids`` (placed members only)."""

    member_ids: tuple[int, ...]
    statement_ids: tuple[int, ...]
    coords: FloatArray
    labels: IntArray
    groups: tuple[Group, ...]
    consensus: tuple[ConsensusStatement, ...]
    silhouette: float | None
    explained_variance: tuple[float, float]
    min_votes: int
    excluded: int = field(default=0)

    @property
    def is_empty(self) -> bool:
        return len(self.member_ids) == 0


@one_blas_thread()
def build_opinion_map(
    votes: FloatArray,
    member_ids: Sequence[int] | None = None,
    statement_ids: Sequence[int] | None = None,
    *,
    min_votes: int | None = None,
    seed: int = 0,
    max_groups: int = MAX_GROUPS,
    representative_limit: int = 5,
    consensus_limit: int = 5,
    restarts: int = 2,
) -> OpinionMap:
    """Compute the whole opinion map (see the module docstring). Deterministic for a ``seed``.
    numpy's BLAS runs on one thread meanwhile (:func:`bot.stances.clustering.one_blas_thread`)."""
    matrix = np.asarray(votes, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError("votes must be a members × statements matrix")
    n_members, n_statements = matrix.shape
    members = tuple(range(n_members)) if member_ids is None else tuple(member_ids)
    statements = tuple(range(n_statements)) if statement_ids is None else tuple(statement_ids)
    if len(members) != n_members or len(statements) != n_statements:
        raise ValueError("ids must match the matrix shape")
    threshold = min(MIN_VOTES if min_votes is None else min_votes, n_statements)

    placed = participation_mask(matrix, min_votes)
    if np.count_nonzero(placed) < MIN_GROUP_SIZE:
        placed = np.zeros_like(placed)
    voted = np.count_nonzero(~np.isnan(matrix), axis=1) > 0
    projection = project(matrix[voted])
    coords = projection.coords[placed[voted]]
    kept = matrix[placed]
    kept_ids = tuple(m for m, keep in zip(members, placed, strict=True) if keep)

    rng = np.random.default_rng(seed)
    if kept_ids:
        raw, silhouette = group_members(
            coords, rng, max_groups=max_groups, min_size=MIN_GROUP_SIZE, restarts=restarts
        )
        labels = _order_labels(coords, raw)
    else:
        labels, silhouette = np.zeros(0, dtype=np.int64), None
    n_groups = int(labels.max()) + 1 if labels.size else 0
    tally = tally_by_group(kept, labels, n_groups)
    groups = tuple(
        Group(
            name=GROUP_NAMES[g] if g < len(GROUP_NAMES) else str(g + 1),
            member_ids=tuple(m for m, lab in zip(kept_ids, labels, strict=True) if lab == g),
            centroid=(
                float(coords[labels == g, 0].mean()),
                float(coords[labels == g, 1].mean()),
            ),
            representative=representative_statements(tally, statements, g, representative_limit),
        )
        for g in range(n_groups)
    )
    consensus = consensus_statements(tally, statements, consensus_limit) if n_groups else ()
    return OpinionMap(
        member_ids=kept_ids,
        statement_ids=statements,
        coords=coords,
        labels=labels,
        groups=groups,
        consensus=consensus,
        silhouette=silhouette,
        explained_variance=projection.explained,
        min_votes=threshold,
        excluded=n_members - len(kept_ids),
    )


def opinion_map_from_votes(
    members: IntArray, statements: IntArray, values: IntArray, statement_ids: Sequence[int]
) -> OpinionMap:
    """The map of a community from its votes as three columns (member id, statement id, value),
    over the active ``statement_ids`` (sorted ascending; votes on others must be left out)."""
    member_ids = np.unique(members)
    columns = np.asarray(statement_ids, dtype=np.int64)
    matrix = np.full((member_ids.size, columns.size), np.nan)
    rows = np.searchsorted(member_ids, members)
    cols = np.searchsorted(columns, statements)
    matrix[rows, cols] = values
    return build_opinion_map(matrix, member_ids.tolist(), list(statement_ids))


def _order_labels(coords: FloatArray, labels: IntArray) -> IntArray:
    """Relabel 0..k-1 by decreasing size, then by centroid (x, y), for stable group names."""
    if labels.size == 0:
        return labels.astype(np.int64)
    present = np.unique(labels)
    keys = []
    for lab in present:
        chosen = labels == lab
        centre = coords[chosen].mean(axis=0)
        keys.append(
            (-int(chosen.sum()), round(float(centre[0]), 9), round(float(centre[1]), 9), lab)
        )
    mapping = {key[3]: new for new, key in enumerate(sorted(keys))}
    return np.array([mapping[lab] for lab in labels], dtype=np.int64)
