from __future__ import annotations

from fastapi import APIRouter

from backend_stub import reference
from backend_stub.schemas.accounts import ReferenceOut
from backend_stub.schemas.common import Option

router = APIRouter(prefix="/api/reference", tags=["reference"])


@router.get("", response_model=ReferenceOut)
def read_reference() -> ReferenceOut:
    """The fixed choices of the registration form."""
    return ReferenceOut(
        exam_districts=[Option(key=k, text=v) for k, v in reference.EXAM_DISTRICTS.items()],
        ethnicities=list(reference.ETHNICITIES),
        political_statuses=list(reference.POLITICAL_STATUSES),
        educations=list(reference.EDUCATIONS),
        occupations=list(reference.OCCUPATIONS),
        hukou_types=list(reference.HUKOU_TYPES),
    )
