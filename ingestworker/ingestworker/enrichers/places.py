"""Where a photo was taken, from its GPS: the nearest GeoNames town on the same side of every
border, and its region and country.

The nearest town alone is wrong near borders: a point in Germany whose nearest town is across
the line in Austria is not in Austria. So the point and the towns are placed in polygons that
follow the borders (the time-zone map of timezonefinder, built from OpenStreetMap's boundaries;
a zone never crosses a border into a country with a zone of its own) and the place is the
nearest town in the point's own polygon. Where no town is near, the country is the zone's own
(tzdata's zone.tab). Both data sets ship inside their wheels: nothing is downloaded.
"""

import importlib.resources
import math
import threading
from dataclasses import dataclass

import numpy as np
import reverse_geocode
from scipy.spatial import cKDTree
from timezonefinder import TimezoneFinder

EARTH_RADIUS_KM = 6371.0
# a town further than this is no name for the place (open sea, desert, ice)
MAX_TOWN_KM = 50.0
# nearest places looked at for one in the polygon's country
CANDIDATES = 32


@dataclass(frozen=True)
class Place:
    country_code: str  # ISO 3166-1 alpha-2
    country: str
    region: str = ""
    city: str = ""

    @property
    def label(self) -> str:
        """ "Lisbon, Lisbon, Portugal": the words the place is found by."""
        parts = [self.city, self.region, self.country]
        return ", ".join(dict.fromkeys(p for p in parts if p))


class PlaceFinder:
    """Loaded on first use (a couple of seconds), then microseconds a point; thread-safe."""

    def __init__(
        self, max_town_km: float = MAX_TOWN_KM, towns: list[dict[str, object]] | None = None
    ) -> None:
        """``towns``: GeoNames rows as reverse_geocode has them (its own by default)."""
        self._max_chord = 2 * math.sin(max_town_km / EARTH_RADIUS_KM / 2)
        self._towns = towns
        self._lock = threading.Lock()
        self._loaded: _Data | None = None

    def find(self, lat: float, lon: float) -> Place | None:
        """The place of a point, or None where no country has it (open sea)."""
        data = self._data()
        zone = data.zones.timezone_at(lng=lon, lat=lat) or ""
        k = min(CANDIDATES, len(data.towns))
        distances, indices = data.tree.query(_unit(lat, lon), k=k)
        for distance, index in zip(np.atleast_1d(distances), np.atleast_1d(indices), strict=True):
            if distance > self._max_chord:
                break
            if self._zone_of(data, int(index)) == zone:
                town = data.towns[int(index)]
                code = str(town["country_code"])
                region = str(town.get("state") or "")
                return Place(code, data.countries.get(code, code), region, str(town["city"]))
        own = data.zone_country.get(zone)
        return Place(own, data.countries.get(own, own)) if own else None

    def _zone_of(self, data: "_Data", index: int) -> str:
        """A town's zone, looked up the first time a point near it asks."""
        zone = data.town_zones.get(index)
        if zone is None:
            town = data.towns[index]
            lat, lon = float(town["latitude"]), float(town["longitude"])  # type: ignore[arg-type]
            zone = data.zones.timezone_at(lng=lon, lat=lat) or ""
            data.town_zones[index] = zone
        return zone

    def _data(self) -> "_Data":
        with self._lock:
            if self._loaded is None:
                self._loaded = _load(self._towns)
            return self._loaded


@dataclass(frozen=True)
class _Data:
    zones: TimezoneFinder
    zone_country: dict[str, str]
    towns: list[dict[str, object]]
    tree: cKDTree
    countries: dict[str, str]
    town_zones: dict[int, str]


def _load(towns: list[dict[str, object]] | None) -> _Data:
    geonames = reverse_geocode.GeocodeData()
    if towns is None:
        towns = geonames._locations  # the shipped GeoNames places (the version is pinned)
    points = np.array(
        [_unit(float(t["latitude"]), float(t["longitude"])) for t in towns]  # type: ignore[arg-type]
    )
    return _Data(
        zones=TimezoneFinder(),
        zone_country=zone_countries(),
        towns=towns,
        tree=cKDTree(points),
        countries=dict(geonames._countries),
        town_zones={},
    )


def zone_countries() -> dict[str, str]:
    """Time zone → the country it lies in (tzdata's zone.tab: one country per zone)."""
    table = importlib.resources.files("tzdata") / "zoneinfo" / "zone.tab"
    out = {}
    for line in table.read_text().splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone = line.split("\t")[:3]
            out[zone.strip()] = code
    return out


def _unit(lat: float, lon: float) -> tuple[float, float, float]:
    """A point on the unit sphere: distances between them are chords, right at every latitude
    and across the date line (degrees are not)."""
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
