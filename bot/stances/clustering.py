"""The opinion map's geometry, as pol.is computes it (polismath's ``pca.clj``, ``clusters.clj``
and ``conversation.clj``; the red-dwarf reproduction follows the same steps).

1. **Projection** (:func:`project`): unseen votes take the statement's mean vote, every column
   is centred, and the first two principal components come from the statements × statements
   covariance. A member's point is the sum over the statements they *voted on* of
   ``(vote - mean) · component``, scaled by ``√(statements / statements voted on)``: pol.is's
   sparsity-aware projection, so a member who saw few statements is not pulled to the centre.
2. **Base clusters** (:func:`base_clusters`): the members' points are first summarised by at most
   100 k-means clusters (pol.is's ``base-k``); below that, every distinct point is its own
   base cluster. Groups are made of base clusters, weighted by their member counts.
3. **Groups** (:func:`choose_groups`): weighted k-means on the base clusters for
   k = 2 .. ``min(5, 2 + base clusters // 12)`` (pol.is's ``max-k-fn``: few base clusters, few
   groups; but always 2 when there are 2 base clusters), and the k with the best silhouette
   over the base clusters wins (ties: the smaller k). Agora adds one guard of its own: a
   grouping with a group of fewer than 3 members is not accepted (its agree rates would
   describe one or two people).
4. **One map from several runs** (:func:`group_members`): steps 2-3 are run 8 times with the
   seeded generator and their groups averaged (see there), standing in for pol.is's refinement
   of its clusters over many updates.

Everything is numpy: scikit-learn (with scipy) would add about a second of import and tens of
MiB to the bot process, which computes the map in a worker thread, for steps that take
milliseconds here (``docs/stances.md``, "Opinion map").
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BASE_K = 100
MIN_GROUPS = 2
MAX_GROUPS = 5
#: pol.is allows one more group for every 12 base clusters (``max-k-fn``).
BASE_CLUSTERS_PER_GROUP = 12
#: Seeded runs of base clusters + groups averaged into one map (see :func:`group_members`).
ENSEMBLE_RUNS = 8


@cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS on one thread inside the block. The map's products and eigenvectors are
    small (a few milliseconds on one core); spread over the cores they gain nothing, and on a
    busy machine BLAS threads wait for each other: the 2,000 × 200 map took twice as long."""
    with _blas().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True, slots=True)
class Projection:
    """Members' points (n × 2), and the share of variance of each component."""

    coords: FloatArray
    explained: tuple[float, float]


def project(votes: FloatArray) -> Projection:
    """pol.is's PCA and sparsity-aware projection of a members × statements matrix
    (+1 agree, -1 disagree, 0 pass, NaN unseen). Signs are fixed (the largest loading of each
    component is positive) so the same data always gives the same picture."""
    n, m = votes.shape
    coords = np.zeros((n, 2))
    if n == 0 or m == 0:
        return Projection(coords, (0.0, 0.0))
    seen = ~np.isnan(votes)
    seen_count = seen.sum(axis=0)
    column_mean = np.divide(
        np.where(seen, votes, 0.0).sum(axis=0),
        seen_count,
        out=np.zeros(m),
        where=seen_count > 0,
    )
    # Imputed with the column mean, then centred: an unseen vote is exactly 0 here.
    centred = np.where(seen, votes - column_mean, 0.0)
    values, vectors = _top_components(centred)
    for j in range(vectors.shape[0]):
        if vectors[j, np.argmax(np.abs(vectors[j]))] < 0:
            vectors[j] *= -1
    voted = np.maximum(seen.sum(axis=1), 1)
    scale = np.sqrt(m / voted)
    coords[:, : vectors.shape[0]] = (centred @ vectors.T) * scale[:, None]
    total = float(np.sum(centred**2))
    ratios = [float(values[j] / total) if total > 0 and j < values.size else 0.0 for j in (0, 1)]
    return Projection(coords, (ratios[0], ratios[1]))


def _top_components(centred: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Eigenvalues and unit eigenvectors (rows) of the two largest components. The m × m
    covariance is decomposed when there are fewer statements than members (much cheaper than
    an SVD of the whole matrix), the matrix itself otherwise."""
    n, m = centred.shape
    count = min(2, n, m)
    if m <= n:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(values)[::-1][:count]
        return np.maximum(values[order], 0.0), vectors[:, order].T.copy()
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    return s[:count] ** 2, vt[:count].copy()


def kmeans(
    points: FloatArray,
    k: int,
    rng: np.random.Generator,
    *,
    weights: FloatArray | None = None,
    restarts: int = 8,
    max_iter: int = 100,
    tolerance: float = 0.01,
) -> tuple[IntArray, FloatArray, float]:
    """Best of ``restarts`` runs of (weighted) Lloyd's k-means with k-means++ seeding.

    A run stops when no centre moves by more than ``tolerance`` (pol.is: 0.01) or after
    ``max_iter`` steps. Returns labels, centres (k × d) and the weighted inertia. An emptied
    cluster is re-seeded with the point farthest from its centre.
    """
    n = points.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of points ({n})")
    w = np.ones(n, dtype=points.dtype) if weights is None else np.asarray(weights, points.dtype)
    rows = np.arange(n)
    columns = np.ascontiguousarray(points.T)
    weighted = [w * column for column in columns]
    best: tuple[IntArray, FloatArray, float] | None = None
    for _ in range(restarts):
        centres = _kmeans_plus_plus(points, columns, k, w, rng)
        for _ in range(max_iter):
            distances = _distances(columns, centres)
            labels = distances.argmin(axis=1).astype(np.int64)
            mass = np.bincount(labels, weights=w, minlength=k)
            moved = centres.copy()
            for d, column in enumerate(weighted):
                sums = np.bincount(labels, weights=column, minlength=k)
                np.divide(sums, mass, out=moved[:, d], where=mass > 0)
            for j in np.flatnonzero(mass == 0).tolist():
                far = int(distances[rows, labels].argmax())
                moved[j] = points[far]
                distances[far] = 0.0
            shift = float(np.max(np.sum((moved - centres) ** 2, axis=1)))
            centres = moved
            if shift <= tolerance**2:
                break
        distances = _distances(columns, centres)
        labels = distances.argmin(axis=1).astype(np.int64)
        inertia = float((w * distances[rows, labels]).sum())
        if best is None or inertia < best[2] - 1e-12:
            best = (labels, centres, inertia)
    assert best is not None
    return best


def _kmeans_plus_plus(
    points: FloatArray,
    columns: FloatArray,
    k: int,
    weights: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    n = points.shape[0]
    centres = np.empty((k, points.shape[1]), dtype=points.dtype)
    centres[0] = points[_draw(weights, rng)]
    closest = _distances(columns, centres[:1])[:, 0]
    uniform = bool(np.all(weights == weights[0]))
    for j in range(1, k):
        mass = closest if uniform else closest * weights
        index = _draw(mass, rng) if mass.sum() > 0 else int(rng.integers(n))
        centres[j] = points[index]
        np.minimum(closest, _distances(columns, centres[j : j + 1])[:, 0], out=closest)
    return centres


def _draw(mass: FloatArray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to ``mass`` (which sums above 0)."""
    cumulative = np.cumsum(mass)
    return min(
        int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), mass.size - 1
    )


def squared_distances(points: FloatArray, centres: FloatArray) -> FloatArray:
    """n × k squared Euclidean distances."""
    return _distances(np.ascontiguousarray(points.T), centres)


def _distances(columns: FloatArray, centres: FloatArray) -> FloatArray:
    """Squared distances from points given as contiguous columns (d × n), one coordinate at a
    time: the map's points have two, and this is several times cheaper than a matrix product
    with an inner dimension of 2 or than broadcasting whole rows."""
    targets = np.ascontiguousarray(centres.T, dtype=columns.dtype)
    result = (columns[0][:, None] - targets[0][None, :]) ** 2
    for d in range(1, columns.shape[0]):
        result += (columns[d][:, None] - targets[d][None, :]) ** 2
    return result


def silhouette_score(points: FloatArray, labels: npt.ArrayLike) -> float:
    """Mean silhouette coefficient (Euclidean); a point alone in its cluster scores 0, as in
    pol.is. Raises ``ValueError`` unless there are 2..n-1 clusters. Used on base clusters
    (at most 100 points), so the full distance matrix is small."""
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.astype(np.int64).ravel()
    n = points.shape[0]
    k = int(codes.max()) + 1 if n else 0
    if not 2 <= k <= n - 1:
        raise ValueError("the silhouette needs between 2 and n - 1 clusters")
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes] = 1.0
    sizes = onehot.sum(axis=0)
    distance = np.sqrt(squared_distances(points, points))
    sums = distance @ onehot
    rows = np.arange(n)
    own_size = sizes[codes]
    a = np.divide(sums[rows, codes], own_size - 1, out=np.zeros(n), where=own_size > 1)
    means = sums / sizes
    means[rows, codes] = np.inf
    b = means.min(axis=1)
    denominator = np.maximum(a, b)
    scores = np.divide(b - a, denominator, out=np.zeros(n), where=denominator > 0)
    scores[own_size <= 1] = 0.0
    return float(scores.mean())


@dataclass(frozen=True, slots=True)
class BaseClusters:
    """``labels``: each member's base cluster; ``centres`` (b × 2) and ``sizes`` (members)."""

    labels: IntArray
    centres: FloatArray
    sizes: FloatArray


def base_clusters(
    points: FloatArray,
    rng: np.random.Generator,
    k: int = BASE_K,
    *,
    distinct: tuple[FloatArray, IntArray] | None = None,
) -> BaseClusters:
    """At most ``k`` base clusters: the distinct points themselves when there are no more than
    ``k``, else one k-means run of at most 10 steps, in single precision: ample for a summary of
    the map (the runs are averaged, :func:`group_members`), and several times cheaper. ``distinct``: ``np.unique(points, axis=0,
    return_inverse=True)`` when the caller already has it."""
    unique, inverse = distinct if distinct is not None else _distinct(points)
    if unique.shape[0] <= k:
        sizes = np.bincount(inverse, minlength=unique.shape[0]).astype(np.float64)
        return BaseClusters(inverse, unique, sizes)
    labels, centres, _ = kmeans(points.astype(np.float32), k, rng, restarts=1, max_iter=10)
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    kept = np.flatnonzero(sizes > 0)
    renumber = np.full(k, -1, dtype=np.int64)
    renumber[kept] = np.arange(kept.size)
    return BaseClusters(renumber[labels], centres[kept].astype(np.float64), sizes[kept])


def _distinct(points: FloatArray) -> tuple[FloatArray, IntArray]:
    unique, inverse = np.unique(np.round(points, 9), axis=0, return_inverse=True)
    return unique, inverse.astype(np.int64).ravel()


def max_groups_for(base_count: int, max_groups: int = MAX_GROUPS) -> int:
    """pol.is's ``max-k-fn``: ``min(max_groups, 2 + base clusters // 12)``."""
    return min(max_groups, 2 + base_count // BASE_CLUSTERS_PER_GROUP)


def choose_groups(
    base: BaseClusters,
    rng: np.random.Generator,
    *,
    max_groups: int = MAX_GROUPS,
    min_size: int = 3,
    restarts: int = 8,
) -> tuple[IntArray, float | None]:
    """Each base cluster's group, for the k with the best silhouette (see the module
    docstring), and that silhouette. One group (and ``None``) when no grouping passes."""
    count = base.centres.shape[0]
    upper = min(max_groups_for(count, max_groups), count)
    best: tuple[IntArray, float] | None = None
    for k in range(MIN_GROUPS, upper + 1):
        labels, _, _ = kmeans(base.centres, k, rng, weights=base.sizes, restarts=restarts)
        members = np.bincount(labels, weights=base.sizes, minlength=k)
        members = members[members > 0]
        if members.size < 2 or members.min() < min_size:
            continue
        # As many groups as base clusters (camps on a few spots): every one alone scores 0.
        score = silhouette_score(base.centres, labels) if members.size < count else 0.0
        if best is None or score > best[1] + 1e-12:
            best = (labels, score)
    if best is None:
        return np.zeros(count, dtype=np.int64), None
    return best


def group_members(
    points: FloatArray,
    rng: np.random.Generator,
    *,
    runs: int = ENSEMBLE_RUNS,
    max_groups: int = MAX_GROUPS,
    min_size: int = 3,
    restarts: int = 2,
) -> tuple[IntArray, float | None]:
    """Each member's group, and the grouping's silhouette (None: one group).

    pol.is refines its base clusters at every update, starting from the last ones, so its groups
    do not hinge on one random start. Computed at once, a single run of 100 base clusters does
    (on pol.is's own conversations the index against pol.is's groups moves by ±0.05 between
    seeds). So ``runs`` seeded runs of base clusters + groups are made; the group count most of
    them chose wins, their group centres are matched up and averaged, and each member joins the
    nearest averaged centre (k-means' own assignment rule).
    """
    outcomes: list[tuple[FloatArray, float]] = []
    distinct = _distinct(points)
    for _ in range(runs):
        base = base_clusters(points, rng, distinct=distinct)
        groups, score = choose_groups(
            base, rng, max_groups=max_groups, min_size=min_size, restarts=restarts
        )
        if score is None:
            continue
        centres = np.array(
            [
                np.average(base.centres[groups == g], axis=0, weights=base.sizes[groups == g])
                for g in np.unique(groups).tolist()
            ]
        )
        outcomes.append((centres, score))
    if len(outcomes) * 2 <= runs:  # most runs found no grouping worth showing
        return np.zeros(points.shape[0], dtype=np.int64), None
    counts = np.bincount([len(c) for c, _ in outcomes])
    k = int(counts.argmax())
    chosen = [(c, s) for c, s in outcomes if len(c) == k]
    reference = chosen[0][0]
    aligned = [reference] + [_align(c, reference) for c, _ in chosen[1:]]
    centres = np.mean(aligned, axis=0)
    labels = squared_distances(points, centres).argmin(axis=1).astype(np.int64)
    while True:  # a centre that won fewer than min_size members gives them to the others
        sizes = np.bincount(labels, minlength=len(centres))
        small = np.flatnonzero(sizes < min_size)
        if small.size == 0:
            return labels, float(np.mean([s for _, s in chosen]))
        if len(centres) <= MIN_GROUPS:  # no grouping without a group of 1-2 members
            return np.zeros(points.shape[0], dtype=np.int64), None
        centres = np.delete(centres, small[0], axis=0)
        labels = squared_distances(points, centres).argmin(axis=1).astype(np.int64)


def _align(centres: FloatArray, reference: FloatArray) -> FloatArray:
    """``centres`` reordered to match ``reference`` best (k ≤ 5: every order is tried)."""
    best = min(
        itertools.permutations(range(len(centres))),
        key=lambda order: float(np.sum((centres[list(order)] - reference) ** 2)),
    )
    return centres[list(best)]
