"""The opinion map, in the manner of pol.is (``/stance statement``, ``/stance vote``, ``/stance map``).

Input is a vote matrix, members × statements: +1 agree, -1 disagree, 0 pass, NaN unseen.

1. **Who counts**: members who voted (pass included) on at least ``min(7, n_statements)``
   statements; the others are left out of everything below.
2. **Projection**: unseen votes are imputed with the statement's mean vote, the matrix is
   mean-centred per statement, and its SVD gives the first two principal components;
   a member's coordinates are their scores on them (signs fixed so the result is reproducible).
3. **Groups**: k-means (k-means++ seeding from a seeded ``numpy.random.Generator``, several
   restarts, best inertia kept) on the 2-D coordinates for k = 2..5, and the k with the best mean
   silhouette wins (ties: the smaller k), among the groupings whose every group has at least
   ``MIN_GROUP_SIZE`` (3) members. k is also capped by the number of distinct points and by
   ``n - 1``; with a single distinct point, or no grouping without a group of 1-2, there is one
   group. With fewer than 3 qualifying members nobody is on the map.
4. **Representative statements** per group g and statement s, with pol.is pseudo-counts:
   ``p_in = (agrees_in + 1) / (votes_in + 2)``, ``p_out`` the same over the other groups,
   ``ratio = p_in / p_out`` (likewise for disagreement). A statement represents g in the
   direction with the larger ``ratio * p_in`` if ``ratio > 1`` and ``p_in > 0.5``; ranked by
   significance (two-proportion z > 1.2816, 90% one-sided) then ``ratio * p_in``.
5. **Consensus**: group-informed consensus ``prod_g (agrees_g + 1) / (votes_g + 2)``, the chance
   that every group agrees. Listed: statements on which every group's pseudo-counted agree rate
   is above one half (a statement some group rejects is not consensus), best score first.

"votes" always counts agree + disagree + pass (pass is a seen statement).

Cost for n members, m statements: the SVD is O(n·m·min(n, m)); k-means O(n·k·iterations);
the silhouette O(n²) time per k but O(chunk·n) memory (rows in blocks of 512). 2,000 × 200 takes
a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from bot.stances.statistics import DEFAULT_MIN_BUCKET

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_VOTES = 7
MIN_GROUPS = 2
MAX_GROUPS = 5
#: The map shows no group smaller than this (a group's agree rates would describe 1-2 people).
MIN_GROUP_SIZE = DEFAULT_MIN_BUCKET
Z_90 = 1.2816
_SILHOUETTE_CHUNK = 512
GROUP_NAMES = "ABCDE"


def participation_mask(votes: FloatArray, min_votes: int | None = None) -> npt.NDArray[np.bool_]:
    """Members (rows) who voted on at least ``min(min_votes, n_statements)`` statements."""
    threshold = min(MIN_VOTES if min_votes is None else min_votes, votes.shape[1])
    seen = np.count_nonzero(~np.isnan(votes), axis=1)
    return (seen >= threshold) & (seen > 0)


def project(votes: FloatArray) -> tuple[FloatArray, tuple[float, float]]:
    """2-D PCA coordinates (n × 2) and the share of variance of each component.

    Unseen votes take the statement's mean vote (0 for a statement nobody saw), then every
    column is centred, so an imputed vote sits exactly at the centre.
    """
    n = votes.shape[0]
    coords = np.zeros((n, 2))
    if n == 0 or votes.shape[1] == 0:
        return coords, (0.0, 0.0)
    seen = ~np.isnan(votes)
    filled = np.where(seen, votes, 0.0)
    seen_count = seen.sum(axis=0)
    column_mean = np.divide(
        filled.sum(axis=0), seen_count, out=np.zeros(votes.shape[1]), where=seen_count > 0
    )
    centred = np.where(seen, votes - column_mean, 0.0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = min(2, s.size)
    for j in range(components):
        if vt[j, np.argmax(np.abs(vt[j]))] < 0:  # fix the SVD's arbitrary sign
            u[:, j] *= -1
    coords[:, :components] = u[:, :components] * s[:components]
    total = float(np.sum(s**2))
    ratios = [float(s[j] ** 2 / total) if total > 0 and j < s.size else 0.0 for j in range(2)]
    return coords, (ratios[0], ratios[1])


def kmeans(
    points: FloatArray,
    k: int,
    rng: np.random.Generator,
    *,
    restarts: int = 8,
    max_iter: int = 100,
) -> tuple[IntArray, FloatArray, float]:
    """Best of ``restarts`` runs of Lloyd's k-means with k-means++ seeding.

    Returns labels, centres (k × d) and inertia (sum of squared distances). An emptied cluster
    is re-seeded with the point farthest from its centre.
    """
    n = points.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of points ({n})")
    best: tuple[IntArray, FloatArray, float] | None = None
    for _ in range(restarts):
        centres = _kmeans_plus_plus(points, k, rng)
        labels = np.full(n, -1, dtype=np.int64)
        for _ in range(max_iter):
            distances = _squared_distances(points, centres)
            new_labels = distances.argmin(axis=1).astype(np.int64)
            if np.array_equal(new_labels, labels):
                break
            labels = new_labels
            for j in range(k):
                members = labels == j
                if members.any():
                    centres[j] = points[members].mean(axis=0)
                else:
                    far = int(distances[np.arange(n), labels].argmax())
                    centres[j] = points[far]
                    labels[far] = j
        inertia = float(_squared_distances(points, centres)[np.arange(n), labels].sum())
        if best is None or inertia < best[2] - 1e-12:
            best = (labels.copy(), centres.copy(), inertia)
    assert best is not None
    return best


def _kmeans_plus_plus(points: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    n = points.shape[0]
    centres = np.empty((k, points.shape[1]))
    centres[0] = points[rng.integers(n)]
    closest = np.sum((points - centres[0]) ** 2, axis=1)
    for j in range(1, k):
        weight = closest.sum()
        index = int(rng.choice(n, p=closest / weight)) if weight > 0 else int(rng.integers(n))
        centres[j] = points[index]
        np.minimum(closest, np.sum((points - centres[j]) ** 2, axis=1), out=closest)
    return centres


def _squared_distances(points: FloatArray, centres: FloatArray) -> FloatArray:
    diff = points[:, None, :] - centres[None, :, :]
    return np.einsum("nkd,nkd->nk", diff, diff)


def silhouette_score(points: FloatArray, labels: npt.ArrayLike) -> float:
    """Mean silhouette coefficient (Euclidean). Members of one-member clusters score 0.

    Pairwise distances are computed in row blocks, so memory stays O(512 · n).
    Raises ``ValueError`` unless there are 2..n-1 clusters.
    """
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.astype(np.int64).ravel()
    n = points.shape[0]
    k = int(codes.max()) + 1 if n else 0
    if not 2 <= k <= n - 1:
        raise ValueError("the silhouette needs between 2 and n - 1 clusters")
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes] = 1.0
    sizes = onehot.sum(axis=0)
    scores = np.empty(n)
    for start in range(0, n, _SILHOUETTE_CHUNK):
        block = points[start : start + _SILHOUETTE_CHUNK]
        distance = np.sqrt(_squared_distances(block, points))
        sums = distance @ onehot
        own = codes[start : start + block.shape[0]]
        rows = np.arange(block.shape[0])
        own_size = sizes[own]
        a = np.divide(sums[rows, own], own_size - 1, out=np.zeros(rows.size), where=own_size > 1)
        means = sums / sizes
        means[rows, own] = np.inf
        b = means.min(axis=1)
        denominator = np.maximum(a, b)
        s = np.divide(b - a, denominator, out=np.zeros(rows.size), where=denominator > 0)
        s[own_size <= 1] = 0.0
        scores[start : start + block.shape[0]] = s
    return float(scores.mean())


def choose_groups(
    points: FloatArray,
    rng: np.random.Generator,
    *,
    min_groups: int = MIN_GROUPS,
    max_groups: int = MAX_GROUPS,
    restarts: int = 8,
    min_size: int = MIN_GROUP_SIZE,
) -> tuple[IntArray, float | None]:
    """Labels for the k in ``min_groups..max_groups`` with the best silhouette, and that score.

    Only groupings where every group has at least ``min_size`` points are accepted; without
    one (or for degenerate inputs: fewer than 3 points, fewer than 2 distinct points) the result
    is one group and ``None``. k never exceeds the number of distinct points nor ``n - 1``.
    """
    n = points.shape[0]
    distinct = np.unique(np.round(points, 9), axis=0).shape[0] if n else 0
    upper = min(max_groups, distinct, n - 1)
    best: tuple[IntArray, float] | None = None
    for k in range(max(min_groups, 2), upper + 1):
        labels, _, _ = kmeans(points, k, rng, restarts=restarts)
        sizes = np.bincount(labels)
        sizes = sizes[sizes > 0]
        if sizes.size < 2 or sizes.min() < min_size:
            continue
        score = silhouette_score(points, labels)
        if best is None or score > best[1] + 1e-12:
            best = (labels, score)
    if best is None:
        return np.zeros(n, dtype=np.int64), None
    return best


@dataclass(frozen=True, slots=True)
class VoteTally:
    """Per group (rows) and statement (columns): agrees, disagrees and votes (pass included)."""

    agrees: FloatArray
    disagrees: FloatArray
    votes: FloatArray


def tally_by_group(votes: FloatArray, labels: npt.ArrayLike, n_groups: int) -> VoteTally:
    """Count agrees, disagrees and votes per group and statement with one matrix product each."""
    codes = np.asarray(labels, dtype=np.int64)
    onehot = np.zeros((n_groups, votes.shape[0]))
    onehot[codes, np.arange(votes.shape[0])] = 1.0
    return VoteTally(
        agrees=onehot @ (votes == 1).astype(np.float64),
        disagrees=onehot @ (votes == -1).astype(np.float64),
        votes=onehot @ (~np.isnan(votes)).astype(np.float64),
    )


def group_informed_consensus(tally: VoteTally) -> FloatArray:
    """Per statement: ``prod over groups of (agrees + 1) / (votes + 2)``."""
    return np.prod((tally.agrees + 1.0) / (tally.votes + 2.0), axis=0)


@dataclass(frozen=True, slots=True)
class RepresentativeStatement:
    statement_id: int
    direction: Literal["agree", "disagree"]
    probability: float  # p_in: pseudo-counted share of the group voting that way
    ratio: float  # p_in / p_out
    z: float  # two-proportion z-score, group vs rest
    agrees: int
    disagrees: int
    votes: int

    @property
    def significant(self) -> bool:
        return self.z > Z_90


@dataclass(frozen=True, slots=True)
class Group:
    name: str  # "A", "B", ... (largest group first)
    member_ids: tuple[int, ...]
    centroid: tuple[float, float]
    representative: tuple[RepresentativeStatement, ...]

    @property
    def size(self) -> int:
        return len(self.member_ids)


@dataclass(frozen=True, slots=True)
class ConsensusStatement:
    statement_id: int
    score: float  # group-informed consensus, in (0, 1)
    group_agree: tuple[float, ...]  # (agrees + 1) / (votes + 2) per group, in group order


def representative_statements(
    tally: VoteTally, statement_ids: Sequence[int], group: int, limit: int = 5
) -> tuple[RepresentativeStatement, ...]:
    """The statements that set group ``group`` apart (see the module docstring, step 4)."""
    if tally.votes.shape[0] < 2:
        return ()
    results: list[tuple[bool, float, RepresentativeStatement]] = []
    votes_in = tally.votes[group]
    votes_out = tally.votes.sum(axis=0) - votes_in
    for direction, counts in (("agree", tally.agrees), ("disagree", tally.disagrees)):
        hits_in = counts[group]
        hits_out = counts.sum(axis=0) - hits_in
        p_in = (hits_in + 1) / (votes_in + 2)
        p_out = (hits_out + 1) / (votes_out + 2)
        ratio = p_in / p_out
        pooled = (hits_in + hits_out + 2) / (votes_in + votes_out + 4)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / (votes_in + 2) + 1 / (votes_out + 2)))
        z = np.divide(p_in - p_out, spread, out=np.zeros_like(p_in), where=spread > 0)
        for j in np.flatnonzero((ratio > 1) & (p_in > 0.5) & (votes_in > 0)).tolist():
            item = RepresentativeStatement(
                statement_id=int(statement_ids[j]),
                direction="agree" if direction == "agree" else "disagree",
                probability=float(p_in[j]),
                ratio=float(ratio[j]),
                z=float(z[j]),
                agrees=int(tally.agrees[group, j]),
                disagrees=int(tally.disagrees[group, j]),
                votes=int(votes_in[j]),
            )
            results.append((item.significant, item.ratio * item.probability, item))
    best: dict[int, tuple[bool, float, RepresentativeStatement]] = {}
    for entry in results:  # one direction per statement: the stronger one
        seen = best.get(entry[2].statement_id)
        if seen is None or entry[1] > seen[1]:
            best[entry[2].statement_id] = entry
    ranked = sorted(best.values(), key=lambda e: (not e[0], -e[1], e[2].statement_id))
    return tuple(entry[2] for entry in ranked[:limit])


@dataclass(frozen=True, eq=False)
class OpinionMap:
    """The computed map. ``coords`` and ``labels`` follow ``member_ids`` (included members only)."""

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
    restarts: int = 8,
) -> OpinionMap:
    """Compute the whole opinion map (see the module docstring). Deterministic for a ``seed``.

    ``votes`` is the members × statements matrix. Groups are named A, B, ... from the largest;
    equal sizes by centroid position. With fewer than :data:`MIN_GROUP_SIZE` qualifying members
    nobody is on the map (counted in ``excluded``): a group of 1-2 would show their votes.
    """
    matrix = np.asarray(votes, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError("votes must be a members × statements matrix")
    n_members, n_statements = matrix.shape
    members = tuple(range(n_members)) if member_ids is None else tuple(member_ids)
    statements = tuple(range(n_statements)) if statement_ids is None else tuple(statement_ids)
    if len(members) != n_members or len(statements) != n_statements:
        raise ValueError("ids must match the matrix shape")
    threshold = min(MIN_VOTES if min_votes is None else min_votes, n_statements)

    mask = participation_mask(matrix, min_votes)
    if np.count_nonzero(mask) < MIN_GROUP_SIZE:
        mask = np.zeros_like(mask)
    kept = matrix[mask]
    kept_ids = tuple(m for m, keep in zip(members, mask, strict=True) if keep)
    coords, explained = project(kept)
    rng = np.random.default_rng(seed)
    raw_labels, silhouette = choose_groups(coords, rng, max_groups=max_groups, restarts=restarts)

    labels = _order_labels(coords, raw_labels)
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
    consensus: tuple[ConsensusStatement, ...] = ()
    if n_groups:
        scores = group_informed_consensus(tally)
        rates = (tally.agrees + 1) / (tally.votes + 2)
        agreed = (rates > 0.5).all(axis=0)
        order = sorted(np.flatnonzero(agreed).tolist(), key=lambda j: (-scores[j], statements[j]))
        consensus = tuple(
            ConsensusStatement(
                statement_id=int(statements[j]),
                score=float(scores[j]),
                group_agree=tuple(float(r) for r in rates[:, j]),
            )
            for j in order[:consensus_limit]
        )
    return OpinionMap(
        member_ids=kept_ids,
        statement_ids=statements,
        coords=coords,
        labels=labels,
        groups=groups,
        consensus=consensus,
        silhouette=silhouette,
        explained_variance=explained,
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
