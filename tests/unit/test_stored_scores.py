"""Stored score tables read back with their stored types; damage is an error naming the column."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from assessment.storage.scores import _dump_frame, _load_frames


def _blob(columns, dtypes, data) -> str:
    return json.dumps({"columns": columns, "dtypes": dict(zip(columns, dtypes, strict=True)), "data": data})


def test_a_frame_round_trips_with_its_types():
    frame = pd.DataFrame({"round": ["r1", "r2"], "n": [3, 4], "score": [2.5, float("nan")],
                          "split": [True, False], "level": pd.array([2, None], dtype="Int64")})
    back = _load_frames([_dump_frame(frame)])
    types = back.dtypes.astype(str).to_dict()
    assert (types["n"], types["score"], types["split"], types["level"]) == ("int64", "float64", "bool", "Int64")
    assert back["n"].tolist() == [3, 4] and back["level"].isna().tolist() == [False, True]


def test_rounds_stored_with_different_numeric_types_read_as_one_type():
    old = _blob(["round", "n"], ["object", "int64"], [["r1", 3]])
    new = _blob(["round", "n"], ["object", "float64"], [["r2", 2.5]])
    assert _load_frames([old, new])["n"].tolist() == [3.0, 2.5]
    flags_old = _blob(["round", "split"], ["object", "bool"], [["r1", True]])
    flags_new = _blob(["round", "split"], ["object", "boolean"], [["r2", None]])
    assert str(_load_frames([flags_old, flags_new])["split"].dtype) == "boolean"


def test_a_damaged_column_is_an_error_naming_it_not_a_silent_change_of_type():
    damaged = _blob(["round", "n_respondents"], ["object", "int64"], [["r1", "seven"]])
    with pytest.raises(ValueError, match="column 'n_respondents' cannot be read as int64"):
        _load_frames([damaged])
