"""Scoring: respondent and partnership domain scores, maturity levels, agreement and suppression.

Two steps, kept apart so that each can be timed and reused: :func:`encode_answers` validates long-form
answers against one questionnaire version and turns them into integer codes; :func:`score_encoded`
computes every figure from those codes. :func:`score_responses` chains the two. The rules, with their
formulas and a worked example, are in docs/scoring.md.
"""

from assessment.disclosure import blank_suppressed
from assessment.scoring.encoding import (
    ANSWER_COLUMNS,
    CARRIED_COLUMNS,
    DK_CODE,
    MAX_ROWS_REPORTED,
    MISSING_CODE,
    NA_CODE,
    EncodedAnswers,
    encode_answers,
    read_answers_bytes,
    read_answers_csv,
)
from assessment.scoring.engine import FRAMES, STATUSES, TOLERANCE, Scores, score_encoded, score_responses

__all__ = [
    "ANSWER_COLUMNS",
    "CARRIED_COLUMNS",
    "DK_CODE",
    "FRAMES",
    "MAX_ROWS_REPORTED",
    "MISSING_CODE",
    "NA_CODE",
    "STATUSES",
    "TOLERANCE",
    "EncodedAnswers",
    "Scores",
    "blank_suppressed",
    "encode_answers",
    "read_answers_bytes",
    "read_answers_csv",
    "score_encoded",
    "score_responses",
]
