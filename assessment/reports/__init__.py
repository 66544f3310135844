"""Reports: the one results model of a partnership's round and what renders it (the board pack).

:mod:`assessment.reports.model` builds :class:`ResultsModel` from the stored frames; the Results page and
:mod:`assessment.reports.board_pack` (HTML, and PDF through WeasyPrint) render it, so page and pack cannot
disagree. :mod:`assessment.reports.printable` renders a questionnaire version for print.
"""

from assessment.reports.model import (
    ACTION_COLUMNS,
    DOMAIN_COLUMNS,
    Headline,
    ReportContext,
    ResultsModel,
    build_results_model,
    percent,
    score_2dp,
    suppression_text,
)

__all__ = [
    "ACTION_COLUMNS",
    "DOMAIN_COLUMNS",
    "Headline",
    "ReportContext",
    "ResultsModel",
    "build_results_model",
    "percent",
    "score_2dp",
    "suppression_text",
]
