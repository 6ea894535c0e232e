"""What sets each opinion group apart, and what every group shares: pol.is's statistics
(polismath's ``repness.clj`` and ``stats.clj``, ``group-aware-consensus`` in ``conversation.clj``).

Per group g and statement s, with pol.is's pseudo-counts (``n`` counts agree + disagree + pass):

- ``pa = (agrees + 1) / (n + 2)`` and ``pat``, the one-proportion test
  ``2·√(n + 1)·((agrees + 1)/(n + 1) - ½)``; likewise ``pd`` and ``pdt`` for disagreement;
- ``ra = pa / pa(rest)`` over the members of the other groups, and ``rat``, the two-proportion
  z-test of the group against the rest (each count plus one); likewise ``rd``, ``rdt``.

**Representative** (``select-rep-comments``): a statement passes for g when both ``rat`` and
``pat`` exceed 1.2816 (90 % one-sided), or both ``rdt`` and ``pdt`` do; its direction is the one
with the larger test. The passing statements are ranked by ``r · rt · p · pt``, and the group's
best agreement (ranked the same way, or by ``p · pt`` while no agreement is representative) is put
first, so each group shows what it agrees on. When nothing passes, the group still shows its one
best statement by test (so no group is left without a description), marked not significant.

**Group-informed consensus**: ``Π_g (agrees_g + 1)/(n_g + 2)`` for agreement and the same with
disagrees for disagreement: high only when *every* group leans that way. Listed: statements on
which every group's pseudo-counted share is above one half, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Direction = Literal["agree", "disagree"]
Z_90 = 1.2816


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


def group_informed_consensus(tally: VoteTally, direction: Direction = "agree") -> FloatArray:
    """Per statement: ``prod over groups of (hits + 1) / (votes + 2)``."""
    hits = tally.agrees if direction == "agree" else tally.disagrees
    return np.prod((hits + 1.0) / (tally.votes + 2.0), axis=0)


def prop_test(hits: FloatArray, trials: FloatArray) -> FloatArray:
    """pol.is's one-proportion test against one half."""
    return 2.0 * np.sqrt(trials + 1.0) * ((hits + 1.0) / (trials + 1.0) - 0.5)


def two_prop_test(
    hits_in: FloatArray, hits_out: FloatArray, trials_in: FloatArray, trials_out: FloatArray
) -> FloatArray:
    """pol.is's two-proportion z-test (every count plus one); 0 where the pooled share is 1."""
    p1 = (hits_in + 1.0) / (trials_in + 1.0)
    p2 = (hits_out + 1.0) / (trials_out + 1.0)
    pooled = (hits_in + hits_out + 2.0) / (trials_in + trials_out + 2.0)
    spread = np.sqrt(pooled * (1.0 - pooled) * (1.0 / (trials_in + 1.0) + 1.0 / (trials_out + 1.0)))
    return np.divide(p1 - p2, spread, out=np.zeros_like(p1), where=spread > 0)


@dataclass(frozen=True, slots=True)
class RepresentativeStatement:
    statement_id: int
    direction: Direction
    probability: float  # p: pseudo-counted share of the group voting that way
    ratio: float  # r: p / the same share among the other groups
    z: float  # rt: two-proportion z-score, group vs rest
    p_test: float  # pt: one-proportion z-score, the group vs one half
    agrees: int
    disagrees: int
    votes: int

    @property
    def significant(self) -> bool:
        """pol.is's rule: both tests significant at 90 % (one-sided)."""
        return self.z > Z_90 and self.p_test > Z_90

    @property
    def metric(self) -> float:
        return self.ratio * self.z * self.probability * self.p_test


def representative_statements(
    tally: VoteTally, statement_ids: Sequence[int], group: int, limit: int = 5
) -> tuple[RepresentativeStatement, ...]:
    """The statements that set group ``group`` apart (see the module docstring)."""
    if tally.votes.shape[0] < 2 or tally.votes.shape[1] == 0:
        return ()
    n_in = tally.votes[group]
    n_out = tally.votes.sum(axis=0) - n_in
    stats: dict[str, tuple[FloatArray, ...]] = {}
    for direction, counts in (("agree", tally.agrees), ("disagree", tally.disagrees)):
        hits_in = counts[group]
        hits_out = counts.sum(axis=0) - hits_in
        p = (hits_in + 1.0) / (n_in + 2.0)
        ratio = p / ((hits_out + 1.0) / (n_out + 2.0))
        stats[direction] = (
            p,
            prop_test(hits_in, n_in),
            ratio,
            two_prop_test(hits_in, hits_out, n_in, n_out),
        )

    def item(j: int, direction: Direction) -> RepresentativeStatement:
        p, pt, r, rt = (float(a[j]) for a in stats[direction])
        return RepresentativeStatement(
            statement_id=int(statement_ids[j]),
            direction=direction,
            probability=p,
            ratio=r,
            z=rt,
            p_test=pt,
            agrees=int(tally.agrees[group, j]),
            disagrees=int(tally.disagrees[group, j]),
            votes=int(n_in[j]),
        )

    voted = np.flatnonzero((tally.agrees[group] + tally.disagrees[group]) > 0).tolist()
    chosen = [
        item(j, "agree" if stats["agree"][3][j] > stats["disagree"][3][j] else "disagree")
        for j in voted
    ]
    sufficient = [c for c in chosen if c.significant]
    best_agree = _best_agree([item(j, "agree") for j in voted])
    if not sufficient:
        fallback = best_agree or max(chosen, key=lambda c: c.z, default=None)
        return () if fallback is None else (fallback,)
    ranked = sorted(
        (c for c in sufficient if best_agree is None or c.statement_id != best_agree.statement_id),
        key=lambda c: (-c.metric, c.statement_id),
    )
    picked = ([best_agree] if best_agree is not None else []) + ranked
    picked = picked[:limit]
    return tuple(
        [c for c in picked if c.direction == "agree"]
        + [c for c in picked if c.direction == "disagree"]
    )


def _best_agree(
    candidates: list[RepresentativeStatement],
) -> RepresentativeStatement | None:
    """pol.is's ``beats-best-agr?``: the agreement with the best ``r·rt·p·pt`` among those
    representative of the group (r > 1), else the best-supported one (``p·pt``) among those
    the group clearly agrees with (pt significant, or r > 1 and p > ½)."""
    representative = [c for c in candidates if c.ratio > 1.0]
    if representative:
        return max(representative, key=lambda c: (c.metric, -c.statement_id))
    plausible = [c for c in candidates if c.p_test > Z_90]
    if plausible:
        return max(plausible, key=lambda c: (c.probability * c.p_test, -c.statement_id))
    return None


@dataclass(frozen=True, slots=True)
class ConsensusStatement:
    statement_id: int
    direction: Direction
    score: float  # group-informed consensus for that direction, in (0, 1)
    group_share: tuple[float, ...]  # (hits + 1) / (votes + 2) per group, in group order


def consensus_statements(
    tally: VoteTally, statement_ids: Sequence[int], limit: int = 5
) -> tuple[ConsensusStatement, ...]:
    """Agreements, then disagreements, every group shares (each group's share above one half),
    best group-informed consensus first; at most ``limit`` of each."""
    found: list[ConsensusStatement] = []
    for direction, hits in (("agree", tally.agrees), ("disagree", tally.disagrees)):
        shares = (hits + 1.0) / (tally.votes + 2.0)
        scores = np.prod(shares, axis=0)
        shared = np.flatnonzero((shares > 0.5).all(axis=0)).tolist()
        order = sorted(shared, key=lambda j: (-scores[j], statement_ids[j]))[:limit]
        found.extend(
            ConsensusStatement(
                statement_id=int(statement_ids[j]),
                direction="agree" if direction == "agree" else "disagree",
                score=float(scores[j]),
                group_share=tuple(float(s) for s in shares[:, j]),
            )
            for j in order
        )
    return tuple(found)
