"""Places from the GeoNames towns and border polygons shipped in the wheels (no network)."""

import pytest

from ingestworker.enrichers import EnrichTarget, PlaceEnricher
from ingestworker.enrichers.places import PlaceFinder
from shared.enrichment import EnrichmentState


@pytest.fixture(scope="module")
def finder() -> PlaceFinder:
    return PlaceFinder()


def test_a_city_centre_is_named_with_its_region_and_country(finder: PlaceFinder) -> None:
    place = finder.find(38.7223, -9.1393)
    assert place is not None
    assert (place.country_code, place.country, place.region) == ("PT", "Portugal", "Lisbon")
    assert place.label.endswith("Lisbon, Portugal")


def test_a_time_zone_shared_by_countries_names_the_country_of_the_point(
    finder: PlaceFinder,
) -> None:
    # northern Vietnam keeps Bangkok's clock: the zone alone would say Thailand
    hanoi = finder.find(21.0285, 105.8542)
    assert hanoi is not None and hanoi.country_code == "VN"


def test_a_point_across_a_border_from_its_nearest_town_takes_its_own_country() -> None:
    # towns either side of the German-Austrian border west of Salzburg: a point on the German
    # side, 2.6 km from the Austrian town and 5 km from the German one, is in Germany
    towns: list[dict[str, object]] = [
        {"country_code": "AT", "city": "Wals", "latitude": 47.7833, "longitude": 12.9667,
         "state": "Salzburg"},
        {"country_code": "DE", "city": "Freilassing", "latitude": 47.8409, "longitude": 12.9811,
         "state": "Bavaria"},
    ]  # fmt: skip
    point = (47.8000, 12.9400)
    place = PlaceFinder(towns=towns).find(*point)
    assert place is not None
    assert (place.country_code, place.city) == ("DE", "Freilassing")


def test_open_sea_is_no_place(finder: PlaceFinder) -> None:
    assert finder.find(0.5, -30.0) is None


def test_far_from_any_town_the_country_alone_is_named(finder: PlaceFinder) -> None:
    place = finder.find(-24.5, 133.0)  # the middle of Australia
    assert place is not None
    assert (place.country_code, place.city) == ("AU", "")


def test_the_place_enrichment_skips_an_image_without_gps(finder: PlaceFinder) -> None:
    enrich = PlaceEnricher(finder)
    outcome = enrich(EnrichTarget("a", {"filename": "x.jpg"}))
    assert outcome.state == EnrichmentState.skipped
    assert outcome.reason == "no GPS position"
    at_sea = enrich(EnrichTarget("a", {"lat": 0.5, "lon": -30.0}))
    assert at_sea.state == EnrichmentState.skipped
    assert at_sea.fields["place"] == ""  # an earlier place is cleared
    found = enrich(EnrichTarget("a", {"lat": 38.7223, "lon": -9.1393}))
    assert found.state == EnrichmentState.done
    assert found.fields["country"] == "Portugal"
