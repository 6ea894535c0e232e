import numpy as np
import pytest

from bot.stances.clustering import (
    BaseClusters,
    choose_groups,
    kmeans,
    project,
    silhouette_score,
)
from bot.stances.opinion_map import build_opinion_map, participation_mask
from bot.stances.repness import (
    group_informed_consensus,
    prop_test,
    representative_statements,
    tally_by_group,
    two_prop_test,
)

NAN = np.nan


def three_camps(seed: int, per_group: int = 30, noise: float = 0.1):
    """Three groups agreeing with their own block of statements and disagreeing with the others;
    statements 0-2 everyone agrees with. Returns the matrix and the true group of each row."""
    rng = np.random.default_rng(seed)
    blocks = 10
    patterns = -np.ones((3, 3 * blocks))
    for g in range(3):
        patterns[g, g * blocks : (g + 1) * blocks] = 1
    patterns[:, :3] = 1
    rows, truth = [], []
    for g in range(3):
        for _ in range(per_group):
            row = patterns[g].copy()
            flip = rng.random(row.size) < noise
            row[flip] = -row[flip]
            row[rng.random(row.size) < 0.05] = 0
            row[rng.random(row.size) < noise] = NAN
            rows.append(row)
            truth.append(g)
    order = rng.permutation(len(rows))
    return np.array(rows)[order], np.array(truth)[order]


def as_base(points: np.ndarray, sizes: list[int] | None = None) -> BaseClusters:
    weights = np.ones(len(points)) if sizes is None else np.array(sizes, dtype=float)
    return BaseClusters(np.arange(len(points)), points, weights)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_three_known_groups_and_picks_k_3(seed: int) -> None:
    matrix, truth = three_camps(seed)
    member_ids = [1000 + i for i in range(matrix.shape[0])]
    result = build_opinion_map(matrix, member_ids, list(range(100, 130)), seed=seed)
    assert len(result.groups) == 3
    assert result.silhouette is not None and result.silhouette > 0.5
    assert same_partition(result.labels, truth)
    assert [g.size for g in result.groups] == [30, 30, 30]
    assert sorted(m for g in result.groups for m in g.member_ids) == member_ids
    # Each group is characterised by agreeing with its own block.
    for group in result.groups:
        rows = np.isin(member_ids, group.member_ids)
        true_group = int(np.bincount(truth[rows]).argmax())
        own_block = set(range(100 + true_group * 10, 110 + true_group * 10))
        assert group.representative, group.name
        top = group.representative[0]
        assert top.direction == "agree" and top.statement_id in own_block
        assert top.significant and top.ratio > 1 and top.probability > 0.5
    # The statements everyone agrees with are the consensus.
    agreed = {c.statement_id for c in result.consensus if c.direction == "agree"}
    assert agreed == {100, 101, 102}


def test_map_is_deterministic_for_a_seed() -> None:
    matrix, _ = three_camps(5)
    a = build_opinion_map(matrix, seed=11)
    b = build_opinion_map(matrix, seed=11)
    assert np.array_equal(a.labels, b.labels) and np.allclose(a.coords, b.coords)
    assert [g.name for g in a.groups] == ["A", "B", "C"]


def test_group_informed_consensus_and_pol_is_statistics_hand_computed() -> None:
    votes = np.array(
        [
            [1, -1],  # group 0
            [1, NAN],  # group 0
            [1, 1],  # group 1
            [0, 1],  # group 1
            [NAN, 1],  # group 1
        ]
    )
    labels = np.array([0, 0, 1, 1, 1])
    tally = tally_by_group(votes, labels, 2)
    assert tally.agrees.tolist() == [[2, 0], [1, 3]]
    assert tally.disagrees.tolist() == [[0, 1], [0, 0]]
    assert tally.votes.tolist() == [[2, 1], [2, 3]]
    # statement 0: (2+1)/(2+2) * (1+1)/(2+2) = 3/4 * 1/2; statement 1: 1/3 * 4/5
    assert group_informed_consensus(tally) == pytest.approx([0.375, 4 / 15])
    # disagreement: statement 0: 1/4 * 1/4; statement 1: 2/3 * 1/5
    assert group_informed_consensus(tally, "disagree") == pytest.approx([1 / 16, 2 / 15])
    # pol.is's tests: one proportion 2·√(n+1)·((k+1)/(n+1) - ½); two proportions, counts + 1.
    assert prop_test(np.array([3.0]), np.array([3.0])) == pytest.approx([2 * 2 * (4 / 4 - 0.5)])
    z = two_prop_test(np.array([3.0]), np.array([0.0]), np.array([3.0]), np.array([1.0]))
    pooled = 5 / 6
    assert z == pytest.approx([(1 - 1 / 2) / np.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 2))])

    rep = representative_statements(tally, [10, 11], group=1)
    # Statement 11: group 1 agrees 3 of 3, the rest 0 of 1: both tests pass 1.2816.
    assert [(r.statement_id, r.direction) for r in rep] == [(11, "agree")]
    assert rep[0].probability == pytest.approx(0.8)  # (3+1)/(3+2)
    assert rep[0].ratio == pytest.approx(0.8 / (1 / 3))
    assert rep[0].z == pytest.approx(z[0]) and rep[0].p_test == pytest.approx(2.0)
    assert rep[0].significant
    # Group 0: its disagreement with statement 11 is significant; pol.is also puts the group's
    # best agreement first (statement 10, not significant), so each group shows what it agrees on.
    rep0 = representative_statements(tally, [10, 11], group=0)
    assert [(r.statement_id, r.direction, r.significant) for r in rep0] == [
        (10, "agree", False),
        (11, "disagree", True),
    ]


def test_representative_statements_follow_pol_is_significance() -> None:
    matrix, truth = three_camps(0, per_group=40)
    tally = tally_by_group(matrix, truth, 3)
    for group in range(3):
        rep = representative_statements(tally, list(range(30)), group)
        assert rep and all(r.significant for r in rep)
        assert len(rep) <= 5
        own = set(range(group * 10, group * 10 + 10)) - {0, 1, 2}
        assert rep[0].direction == "agree" and rep[0].statement_id in own
        directions = [r.direction for r in rep]
        assert directions == sorted(directions)  # agreements before disagreements


def test_sparse_voters_are_not_pulled_to_the_centre() -> None:
    """pol.is's sparsity-aware scaling: a member who saw 2 of 8 statements, agreeing with the
    first camp on both, lands by that camp (unscaled, they would sit a quarter of the way out)."""
    camp = [1.0, 1, 1, 1, -1, -1, -1, -1]
    rows = [camp] * 5 + [[-v for v in camp]] * 5 + [[1.0, 1] + [NAN] * 6]
    coords = project(np.array(rows)).coords
    full, sparse = coords[0], coords[10]
    assert np.linalg.norm(sparse) > 0.75 * np.linalg.norm(full)
    assert np.dot(sparse, full) > 0  # on the first camp's side


def test_participation_threshold() -> None:
    matrix = np.full((4, 10), NAN)
    matrix[0, :6] = 1
    matrix[1, :7] = 0  # passes count as votes
    matrix[2, :] = -1
    matrix[3, 2:] = 1
    assert participation_mask(matrix).tolist() == [False, True, True, True]
    assert participation_mask(matrix, min_votes=6).tolist() == [True, True, True, True]
    few = np.array([[1, NAN, 1], [1, 1, 1], [NAN, NAN, NAN]])
    assert participation_mask(few).tolist() == [False, True, False]  # min(7, 3) = 3

    result = build_opinion_map(matrix, [6, 7, 8, 9])
    assert result.member_ids == (7, 8, 9) and result.excluded == 1 and result.min_votes == 7


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (4, 0)])
def test_empty_inputs(shape: tuple[int, int]) -> None:
    result = build_opinion_map(np.full(shape, NAN))
    assert result.is_empty
    assert result.groups == () and result.consensus == () and result.silhouette is None
    assert result.coords.shape == (0, 2)


def test_one_or_two_members_are_not_shown() -> None:
    one = build_opinion_map(np.array([[1.0, -1, 1]]), [42])
    assert one.is_empty and one.excluded == 1
    two = build_opinion_map(np.array([[1.0, -1, 1], [-1, 1, -1]]), [1, 2])
    assert two.is_empty and two.excluded == 2
    assert two.groups == () and two.consensus == ()


@pytest.mark.parametrize("n", [3, 4, 5])
def test_no_group_of_one_or_two_members(n: int) -> None:
    # One member far from the others: k-means would happily isolate them (best silhouette).
    matrix = np.tile([1.0, 1, 1, 1, -1, -1, 1, 0], (n, 1))
    matrix[1:, 0] = [1.0 if i % 2 else 0.0 for i in range(n - 1)]
    matrix[0] = -matrix[0]
    result = build_opinion_map(matrix)
    assert len(result.member_ids) == n
    assert [g.size for g in result.groups] == [n]
    assert all(g.size >= 3 for g in result.groups)


def test_groups_of_three_are_kept() -> None:
    matrix = np.array([[1.0, 1, -1, -1]] * 3 + [[-1.0, -1, 1, 1]] * 3)
    result = build_opinion_map(matrix)
    assert sorted(g.size for g in result.groups) == [3, 3]
    rng = np.random.default_rng(0)
    points = np.array([[0.0, 0], [0, 0.1], [0.1, 0], [9, 9], [9, 9.1]])
    labels, score = choose_groups(as_base(points), rng)
    assert labels.tolist() == [0] * 5 and score is None  # {3, 2} refused: one group


def test_identical_members_make_one_group() -> None:
    result = build_opinion_map(np.tile([1.0, -1, 0, 1, 1, -1, 1, 1], (12, 1)))
    assert len(result.groups) == 1 and result.silhouette is None
    assert np.allclose(result.coords, 0)
    agreed = [c.statement_id for c in result.consensus if c.direction == "agree"]
    assert agreed == [0, 3, 4, 6, 7]
    assert [c.statement_id for c in result.consensus if c.direction == "disagree"] == [1, 5]


def test_k_is_capped_by_base_clusters() -> None:
    rng = np.random.default_rng(0)
    pairs = as_base(np.array([[0.0, 0], [5, 5]]), sizes=[2, 2])
    labels, score = choose_groups(pairs, rng, min_size=1)
    assert sorted(labels.tolist()) == [0, 1] and score == 0.0  # two camps on two spots
    labels, score = choose_groups(pairs, rng)  # groups of 2 are refused
    assert labels.tolist() == [0, 0] and score is None
    # pol.is's max-k-fn: 2 + base clusters // 12, so 11 base clusters allow only k = 2.
    spread = as_base(np.column_stack([np.arange(11.0), np.zeros(11)]))
    assert np.unique(choose_groups(spread, rng, min_size=1)[0]).size == 2


def test_two_tight_camps_make_two_groups() -> None:
    matrix = np.array([[1.0, 1, 1, -1, -1, -1, 1, 0]] * 20 + [[-1.0, -1, -1, 1, 1, 1, 1, 0]] * 12)
    result = build_opinion_map(matrix)
    assert [g.size for g in result.groups] == [20, 12]


def test_projection_pads_to_two_dimensions() -> None:
    projection = project(np.array([[1.0], [-1.0], [NAN]]))
    coords, explained = projection.coords, projection.explained
    assert coords.shape == (3, 2)
    assert np.allclose(coords[:, 1], 0) and explained[1] == 0.0
    assert coords[2, 0] == pytest.approx(0.0)  # unseen sits at the centre
    assert explained[0] == pytest.approx(1.0)


def test_silhouette_hand_computed() -> None:
    points = np.array([[0.0, 0], [0, 1], [5, 0]])
    expected = (0.8 + (1 - 1 / np.sqrt(26)) + 0.0) / 3  # the singleton scores 0
    assert silhouette_score(points, [0, 0, 1]) == pytest.approx(expected)
    with pytest.raises(ValueError):
        silhouette_score(points, [0, 0, 0])


def test_silhouette_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    points = rng.normal(size=(1100, 2))
    labels = rng.integers(0, 4, 1100)
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    scores = []
    for i in range(len(points)):
        same = labels == labels[i]
        a = d[i, same].sum() / (same.sum() - 1)
        b = min(d[i, labels == c].mean() for c in range(4) if c != labels[i])
        scores.append((b - a) / max(a, b))
    assert silhouette_score(points, labels) == pytest.approx(np.mean(scores))


def test_kmeans_finds_obvious_clusters() -> None:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(c, 0.1, size=(20, 2)) for c in (0, 5, 10)])
    labels, centres, inertia = kmeans(points, 3, np.random.default_rng(1))
    assert same_partition(labels, np.repeat([0, 1, 2], 20))
    assert sorted(np.round(centres[:, 0]).tolist()) == [0, 5, 10]
    assert inertia < 20 * 3 * 0.1
    with pytest.raises(ValueError):
        kmeans(points[:2], 3, rng)


def test_large_map_of_2000_by_200() -> None:
    """Correctness on the benchmark's size (timings live in bench/, never in tests)."""
    rng = np.random.default_rng(0)
    matrix = rng.choice([1.0, -1.0, 0.0, NAN], size=(2000, 200))
    result = build_opinion_map(matrix)
    assert 2 <= len(result.groups) <= 5
    assert len(result.member_ids) == 2000 and result.excluded == 0
    assert result.coords.shape == (2000, 2) and np.isfinite(result.coords).all()
    assert sum(g.size for g in result.groups) == 2000
    assert sorted(m for g in result.groups for m in g.member_ids) == list(range(2000))
