"""The rule ids of shared/DOMAIN.md, each with the one-line gist a person sees in a plan.

Sources: [CT] ``000_b2c6ff2073ce127f.txt`` (concurrent training, strength first) and [LR]
``004_17a9b98de5d927f9.txt`` (lift-run programme for runners, endurance first).
"""

from __future__ import annotations

RULES: dict[str, str] = {
    "P1": "race distance decides the phases; no race means base (or maintenance) all year",
    "P2": "half/marathon: peak 6/8 weeks out, taper the last 2/3 weeks, build before that",
    "P3": "5K/10K: lifting steady through the block; race week is the 7 days ending on race day",
    "P4": "no weights in half/marathon race week; 5K/10K at most one light lift; race day shown",
    "P5": "after the race 1-2 weeks fully off, then back to base with lighter loads",
    "L1": "lift days per week follow experience (beginner 2, intermediate 3, advanced 3-4)",
    "L2": "base/build: heavy 4x6-8 (5x5 for squat and deadlift), slow eccentrics, 1-2 RIR",
    "L3": "plyometrics in base/build lift sessions, always before the lifts",
    "L4": "peak: heavy but 2-4 sets of 3-5, fast reps, plyometrics move to run warm-ups",
    "L5": "taper: one lift a week, about 2x5 heavy, plus mobility",
    "L6": "ease in: start under target volume and load; soreness lowers next week's load",
    "L7": "split lift days by region: lower, upper, full body",
    "L8": "several 60+ min runs in a week: lifting drops to maintenance volume",
    "R1": "run types: easy zone 2, tempo, intervals, long, optional easy",
    "R2": "strength priority: 3 lift + 2 run (lift Mon/Wed/Fri, run Tue/Thu); 4 days: 3+1",
    "R3": "strength priority: a run on a lift day is easy and at most 40 min; <=45 min is easy",
    "R4": "adding on one side removes from the other (4th lift: runs 20-25 min; 3rd run: -1 set)",
    "R5": "endurance priority: the LR build and peak sample weeks",
    "S1": "strength priority: lift and run on different days whenever possible",
    "S2": "same day: lift first (strength/off-season); run first (endurance, half/full build+peak)",
    "S3": "same-day gap: 6 h (strength); endurance back to back under ~55 min, else 2 h",
    "S4": "no interval/tempo run within 8 h of a lower-body lift",
    "S5": "lifts loading the same region at least two calendar days apart",
    "S6": "at least one full rest day a week",
    "S7": "at most two sessions a day; two-a-days only for hard_days_hard or when needed",
    "S8": "sessions only inside availability windows, clear of busy time plus buffer",
    "S9": "past sessions and the athlete's own edits are never moved",
    "S10": "replanning is minimal; drop order: optional easy run, then the accessory modality",
    "G1": "start where the athlete is: their weekly and long-run minutes",
    "G2": "weekly run minutes grow at most 10 %, the long run at most 10 min a week, to a ceiling",
    "G3": "every 4th base/build week is a cutback: about 25 % less running, one set fewer",
    "G4": "taper: running falls week by week; after recovery it restarts at about half",
    "G5": "at most two hard runs a week, never on consecutive days (beginners: one)",
    "G6": "runs built from segments that add up to their length; fuelling only on 75+ min runs",
    "G7": "more than 2 reps left in reserve: add weight next time",
    "N1": "protein 0.9-1.1 g per lb of body weight a day",
    "N2": "added running raises weekly energy needs",
}


def sorted_ids(ids: set[str] | frozenset[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Rule ids in DOMAIN.md order (P, L, R, S, G, N), so output is stable and readable."""
    order = {rule: i for i, rule in enumerate(RULES)}
    return tuple(sorted(set(ids), key=lambda r: order.get(r, len(order))))
