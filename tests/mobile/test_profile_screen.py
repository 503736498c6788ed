"""个人中心 built from an API answer, without a page: what a candidate is offered."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import ids
from mobile.services.models import Candidate, JourneyStep
from mobile.state import AppState
from mobile.views import profile


def identifiers(control: Any) -> set[str]:
    """Every Semantics identifier below `control`."""
    found: set[str] = set()
    if isinstance(control, ft.Semantics) and control.identifier:
        found.add(control.identifier)
    for name in ("controls", "content", "title", "subtitle", "trailing"):
        child = getattr(control, name, None)
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, ft.Control):
                found |= identifiers(item)
    return found


def built(review: dict[str, Any], journey: list[JourneyStep]) -> set[str]:
    state = AppState()
    state.candidate = Candidate(
        name="古丽",
        id_number="650102199601123023",
        kind="new",
        phone="13800138000",
        exam_district="6501",
        sex="女",
        birth_date="1996-01-12",
        journey=journey,
        review=review,
    )

    async def navigate(_route: str) -> None:
        pass

    return set().union(*(identifiers(c) for c in profile.build(state, navigate).controls))


DONE = [JourneyStep(key=k, title=k, status="done") for k in ("account", "idcard", "photo")] + [
    JourneyStep(key="liveness", title="人脸识别", status="waiting")
]


def test_materials_to_redo_lead_to_their_upload() -> None:
    rejected = {"status": "rejected", "message": "资格审核未通过", "parts": ["materials"]}
    assert ids.PROFILE_REDO_MATERIALS in built(rejected, DONE)
    assert ids.PROFILE_REDO_MATERIALS not in built({**rejected, "parts": ["photo"]}, DONE)


def test_at_review_only_the_review_card_says_where_things_stand() -> None:
    journey = [*DONE, JourneyStep(key="review", title="资格审核", status="current")]
    shown = built({"status": "pending", "message": "审核中", "identity_complete": True}, journey)
    assert ids.PROFILE_REVIEW in shown and ids.PROFILE_NEXT_STEP not in shown


def test_a_live_check_in_review_counts_as_the_candidates_part_done() -> None:
    # Nothing left to do for the candidate but to submit: no 去完成 button for the live
    # check that waits for a person, and 提交资格审核 is offered.
    shown = built({"status": "none", "message": "请提交", "identity_complete": True}, DONE)
    assert ids.PROFILE_SUBMIT_REVIEW in shown
    assert ids.PROFILE_GO_NEXT not in shown
