"""Place: the town, region and country of the GPS position the index stage kept (lat, lon)."""

from ingestworker.enrichers.outcome import Enriched, EnrichTarget
from ingestworker.enrichers.places import PlaceFinder
from shared.enrichment import PLACE_FIELDS, EnrichmentState

NO_PLACE = dict.fromkeys(PLACE_FIELDS, "")


class PlaceEnricher:
    name = "place"

    def __init__(self, finder: PlaceFinder) -> None:
        self._finder = finder

    def __call__(self, target: EnrichTarget) -> Enriched:
        lat, lon = target.fields.get("lat"), target.fields.get("lon")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            return Enriched(EnrichmentState.skipped, dict(NO_PLACE), "no GPS position")
        place = self._finder.find(float(lat), float(lon))
        if place is None:
            return Enriched(EnrichmentState.skipped, dict(NO_PLACE), "in no country (at sea)")
        return Enriched(
            EnrichmentState.done,
            {
                "place": place.label,
                "city": place.city,
                "region": place.region,
                "country": place.country,
                "country_code": place.country_code,
            },
        )
