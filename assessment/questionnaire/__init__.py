"""Questionnaire definitions: the file format, loading, validation and the crosswalk between versions."""

from assessment.questionnaire.crosswalk import (
    Crosswalk,
    DomainComparability,
    ItemChange,
    build_crosswalk,
    compare_versions,
)
from assessment.questionnaire.loading import (
    FolderContents,
    QuestionnaireInfo,
    content_hash,
    get_questionnaire,
    list_questionnaires,
    load_directory,
    load_folder,
    load_questionnaire,
    normalised_definition,
    versions_of,
)
from assessment.questionnaire.schema import Band, Change, Domain, Item, Questionnaire, Scale, ScaleLevel
from assessment.questionnaire.validation import ValidationResult, validate_file, validate_text

__all__ = [
    "Band",
    "Change",
    "Crosswalk",
    "Domain",
    "DomainComparability",
    "FolderContents",
    "Item",
    "ItemChange",
    "Questionnaire",
    "QuestionnaireInfo",
    "Scale",
    "ScaleLevel",
    "ValidationResult",
    "build_crosswalk",
    "compare_versions",
    "content_hash",
    "get_questionnaire",
    "list_questionnaires",
    "load_directory",
    "load_folder",
    "load_questionnaire",
    "normalised_definition",
    "validate_file",
    "validate_text",
    "versions_of",
]
