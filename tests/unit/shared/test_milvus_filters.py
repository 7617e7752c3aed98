"""The Milvus adapter's half of filtering: an ImageFilter as one Milvus expression."""

import json

from shared.vectors import ImageFilter, filter_expression


def test_every_condition_becomes_one_clause_of_one_expression() -> None:
    expr = filter_expression(
        ImageFilter(
            taken_from=1704067200,
            taken_to=1735689599,
            tags=("beach", "sea"),
            tags_mode="all",
            content_types=("image/jpeg",),
            min_width=800,
            source="phone",
            exclude_ids=("a" * 64,),
        )
    )
    assert 'array_contains_all(tags, ["beach", "sea"])' in expr
    assert 'content_type in ["image/jpeg"]' in expr
    assert "width >= 800" in expr
    assert "taken_at >= 1704067200" in expr and "taken_at <= 1735689599" in expr
    assert 'source == "phone"' in expr
    assert f'id not in ["{"a" * 64}"]' in expr
    assert expr.count(" and ") == 7  # the taken_at range also drops images with no date


def test_no_filter_is_an_empty_expression() -> None:
    assert filter_expression(None) == filter_expression(ImageFilter()) == ""


def test_filter_values_cannot_leave_their_literal() -> None:
    crafted = ImageFilter(source='a" or source != "b', tags=('x"] or 1 == 1 or [', "ok"))
    expr = filter_expression(crafted)
    # every quote inside a value is escaped: the values decode back from their literals
    assert json.loads(expr.split("source == ", 1)[1]) == 'a" or source != "b'
    assert '"x\\"] or 1 == 1 or ["' in expr


def test_auto_tags_match_the_json_list_enrichment_wrote_as_tags_mode_says() -> None:
    assert filter_expression(ImageFilter(auto_tags=("dog", 'a"b'))) == (
        'json_contains_any(auto_tags, ["dog", "a\\"b"])'
    )
    both = filter_expression(ImageFilter(auto_tags=("dog", "sea"), tags_mode="all"))
    assert both == 'json_contains_all(auto_tags, ["dog", "sea"])'


def test_a_place_matches_a_town_region_country_or_country_code() -> None:
    expr = filter_expression(ImageFilter(place='Lisbon" or id != "'))
    assert expr == (
        '(city == "Lisbon\\" or id != \\"" or region == "Lisbon\\" or id != \\"" or '
        'country == "Lisbon\\" or id != \\"" or country_code == "Lisbon\\" or id != \\"")'
    )
