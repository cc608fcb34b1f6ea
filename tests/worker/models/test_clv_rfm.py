"""RFM quintile scores and the R x FM segment grid."""

from __future__ import annotations

import numpy as np
import pytest

from worker.models.rfm import SEGMENT_NAMES, Segment, quintile_scores, rfm_scores, segments


def test_distinct_values_split_into_five_equal_quintiles() -> None:
    values = np.random.default_rng(31).permutation(np.arange(10.0))
    scores = quintile_scores(values)
    np.testing.assert_array_equal(scores[np.argsort(values)], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])


def test_equal_values_share_a_score_whatever_their_position() -> None:
    # Six of ten customers never bought again: they must not be spread over several scores.
    frequency = np.array([0, 3, 0, 0, 7, 0, 1, 0, 2, 0])
    scores = quintile_scores(frequency)
    assert len(set(scores[frequency == 0].tolist())) == 1
    assert scores[frequency == 0][0] < scores[frequency == 1][0] < scores[frequency == 7][0]
    np.testing.assert_array_equal(quintile_scores(np.full(4, 2.5)), [3, 3, 3, 3])


def test_most_recent_customers_get_recency_score_five() -> None:
    days_since_last_purchase = np.array([1.0, 400.0, 30.0, 200.0, 90.0])
    scores = rfm_scores(days_since_last_purchase, np.ones(5), np.ones(5))
    np.testing.assert_array_equal(scores.recency, [5, 1, 4, 2, 3])


@pytest.mark.parametrize(
    ("r", "fm", "segment"),
    [
        (5, 5, Segment.CHAMPIONS),
        (4, 4, Segment.CHAMPIONS),
        (3, 5, Segment.LOYAL),
        (5, 3, Segment.LOYAL),
        (5, 2, Segment.POTENTIAL_LOYALIST),
        (5, 1, Segment.NEW),
        (4, 1, Segment.PROMISING),
        (3, 3, Segment.NEED_ATTENTION),
        (3, 1, Segment.ABOUT_TO_SLEEP),
        (2, 4, Segment.AT_RISK),
        (1, 3, Segment.AT_RISK),
        (1, 5, Segment.CANT_LOSE_THEM),
        (2, 2, Segment.HIBERNATING),
        (1, 1, Segment.LOST),
    ],
)
def test_grid_cells_map_to_their_segment(r: int, fm: int, segment: Segment) -> None:
    assert segments([r], [fm])[0] == segment


def test_every_segment_has_a_name_and_a_cell() -> None:
    r, fm = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    reachable = set(segments(r.ravel(), fm.ravel()).tolist())
    assert reachable == {int(s) for s in Segment}
    assert len(SEGMENT_NAMES) == len(Segment)
    assert SEGMENT_NAMES[Segment.CANT_LOSE_THEM] == "Can't lose them"


def test_hand_built_customers_land_in_the_expected_segments() -> None:
    # Five customers, one per quintile in each dimension.
    days_since_last = np.array([2.0, 5.0, 300.0, 250.0, 60.0])
    frequency = np.array([20, 0, 15, 1, 4])
    monetary = np.array([900.0, 10.0, 700.0, 20.0, 300.0])
    scores = rfm_scores(days_since_last, frequency, monetary)
    np.testing.assert_array_equal(scores.recency, [5, 4, 1, 2, 3])
    np.testing.assert_array_equal(scores.fm, [5, 1, 4, 2, 3])
    names = [SEGMENT_NAMES[code] for code in scores.segment]
    assert names == ["Champions", "Promising", "Can't lose them", "Hibernating", "Need attention"]


def test_fm_score_rounds_the_mean_half_up() -> None:
    # F scores 5 and 1 with M scores 4 and 2: means 4.5 -> 5 and 1.5 -> 2.
    scores = rfm_scores(
        np.arange(5.0), np.array([9, 1, 2, 3, 4]), np.array([4.0, 2.0, 1.0, 3.0, 5.0])
    )
    np.testing.assert_array_equal(scores.frequency[:2], [5, 1])
    np.testing.assert_array_equal(scores.monetary[:2], [4, 2])
    np.testing.assert_array_equal(scores.fm[:2], [5, 2])


def test_scores_outside_one_to_five_are_rejected() -> None:
    with pytest.raises(ValueError):
        segments([0], [3])


def test_missing_values_are_rejected_rather_than_scored() -> None:
    with pytest.raises(ValueError, match="NaN"):
        quintile_scores([1.0, float("nan"), 3.0])
