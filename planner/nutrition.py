"""The plan summary's nutrition notes (N1, N2) [CT 04, CT mistake 03]."""

from __future__ import annotations

from config.models import RuleNumbers
from planner.model import Nutrition


def protein_range(bodyweight_lb: float, rules: RuleNumbers) -> tuple[int, int]:
    """N1: 0.9-1.1 g per lb a day; Jamie at 160 lb: 144-176 g (he ate 175 g, 1.09 g/lb)."""
    low, high = rules.protein_g_per_lb
    return round(bodyweight_lb * low), round(bodyweight_lb * high)


def summarise(
    bodyweight_lb: float | None, run_minutes_per_week: int, rules: RuleNumbers
) -> Nutrition:
    """N2: the article's 400-600 kcal for two 30-min runs at 150-180 lb scales by minutes x lb."""
    if bodyweight_lb is None:
        return Nutrition(
            protein_g_per_day=None,
            bodyweight_lb=None,
            extra_kcal_per_week=None,
            run_minutes_per_week=run_minutes_per_week,
            notes=("set athlete.bodyweight_kg or athlete.bodyweight_lb for protein and energy",),
        )
    low, high = rules.run_kcal_per_minute_per_lb
    kcal = (
        round(run_minutes_per_week * bodyweight_lb * low, -1),
        round(run_minutes_per_week * bodyweight_lb * high, -1),
    )
    protein = protein_range(bodyweight_lb, rules)
    return Nutrition(
        protein_g_per_day=protein,
        bodyweight_lb=round(bodyweight_lb, 1),
        extra_kcal_per_week=(int(kcal[0]), int(kcal[1])),
        run_minutes_per_week=run_minutes_per_week,
        notes=(
            f"protein {protein[0]}-{protein[1]} g a day (0.9-1.1 g/lb) for concurrent training",
            f"running adds about {int(kcal[0])}-{int(kcal[1])} kcal a week "
            f"({run_minutes_per_week} min in an average training week): eat for it",
        ),
    )
