"""Outcome indicators beside maturity: the catalogue, the arithmetic of figures, and associations.

* :mod:`~assessment.indicators.catalogue`: the versioned indicator catalogue (data file, strict models,
  validation with error codes and places).
* :mod:`~assessment.indicators.figures`: rates computed from counts and denominators, the "fewer than N"
  disclosure rule, and the police–NHS reconciliation rule.
* :mod:`~assessment.indicators.association`: Spearman's rho between a domain score and an indicator across
  partnerships, with a seeded bootstrap interval (an association, never an effect).

Only the catalogue is imported here: ``assessment indicators validate`` needs YAML and pydantic, not
pandas and scipy. Import the figures and the association from their modules.
"""

from assessment.indicators.catalogue import (
    Catalogue,
    CatalogueResult,
    Indicator,
    catalogue_rows,
    default_indicators_dir,
    get_catalogue,
    load_catalogue,
    validate_catalogue_file,
    validate_catalogue_text,
)

__all__ = [
    "Catalogue",
    "CatalogueResult",
    "Indicator",
    "catalogue_rows",
    "default_indicators_dir",
    "get_catalogue",
    "load_catalogue",
    "validate_catalogue_file",
    "validate_catalogue_text",
]
