"""A tool's structured result as sent: the JSON pydantic would dump, field for field and in the same order, with a
query's rows passed without a copy."""

from __future__ import annotations

import json

from mcp_server.tools.models import QueryColumn, QueryResult, SearchHit, SearchResult, as_json


def test_a_query_result_is_sent_as_pydantic_would_dump_it() -> None:
    rows = [[1, "<PERSON:0123456789ab>", None, 2.5, True], [2, "‹EMAIL_ADDRESS:x›", "text", -0.0, False]]
    result = QueryResult.model_construct(  # as the read pipeline builds it
        source="crm",
        columns=[QueryColumn(name=n, masking="clear") for n in "abcde"],
        rows=rows,
        row_count=2,
        truncated=True,
        more=True,
        cursor="c1",
        entities_masked={"PERSON": 1},
    )
    sent = as_json(result)
    assert json.dumps(sent) == json.dumps(result.model_dump(mode="json"))  # same keys, values and order
    assert sent["rows"] is rows


def test_other_results_are_dumped() -> None:
    result = SearchResult(
        hits=[SearchHit(source="d", ref="<DOC:1>", title="t", score=1.0, snippet="s")], entities_masked={}
    )
    assert as_json(result) == result.model_dump(mode="json")


def test_a_row_of_text_is_one_line_whatever_its_cells_hold() -> None:
    from mcp_server.tools.render import render_row

    assert render_row(["Ann", 3, None, 2.5, True]) == "Ann | 3 | NULL | 2.5 | True"
    assert render_row(["two\nlines", "carriage\r\nreturn", 7]) == "two\\nlines | carriage\\nreturn | 7"
