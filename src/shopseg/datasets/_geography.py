"""A small built-in table of real places for the synthetic store.

Seven countries, their main regions and cities, with the city centre's
latitude and longitude (WGS84, 4 decimals) and a rough population weight.
Customers are placed at a city centre plus a few kilometres of jitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["City", "Country", "COUNTRIES", "CityTable", "city_table"]


@dataclass(frozen=True)
class City:
    """One city: its region, name, coordinates and population weight."""

    region: str
    name: str
    lat: float
    lon: float
    weight: float


@dataclass(frozen=True)
class Country:
    """One country: name, currency, language and its cities."""

    name: str
    currency: str
    language: str
    weight: float
    cities: tuple[City, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "United Kingdom",
        "GBP",
        "en",
        0.32,
        (
            City("England", "London", 51.5074, -0.1278, 9.0),
            City("England", "Manchester", 53.4808, -2.2426, 2.8),
            City("England", "Birmingham", 52.4862, -1.8904, 2.6),
            City("England", "Bristol", 51.4545, -2.5879, 1.0),
            City("Scotland", "Edinburgh", 55.9533, -3.1883, 0.9),
            City("Scotland", "Glasgow", 55.8642, -4.2518, 1.7),
            City("Wales", "Cardiff", 51.4816, -3.1791, 0.5),
            City("Northern Ireland", "Belfast", 54.5973, -5.9301, 0.6),
        ),
    ),
    Country(
        "United States",
        "USD",
        "en",
        0.22,
        (
            City("New York", "New York", 40.7128, -74.0060, 8.3),
            City("California", "Los Angeles", 34.0522, -118.2437, 3.9),
            City("California", "San Francisco", 37.7749, -122.4194, 0.9),
            City("Illinois", "Chicago", 41.8781, -87.6298, 2.7),
            City("Texas", "Houston", 29.7604, -95.3698, 2.3),
            City("Texas", "Austin", 30.2672, -97.7431, 1.0),
            City("Washington", "Seattle", 47.6062, -122.3321, 0.8),
            City("Colorado", "Denver", 39.7392, -104.9903, 0.7),
        ),
    ),
    Country(
        "Germany",
        "EUR",
        "de",
        0.16,
        (
            City("Berlin", "Berlin", 52.5200, 13.4050, 3.7),
            City("Hamburg", "Hamburg", 53.5511, 9.9937, 1.9),
            City("Bavaria", "Munich", 48.1351, 11.5820, 1.5),
            City("North Rhine-Westphalia", "Cologne", 50.9375, 6.9603, 1.1),
            City("Hesse", "Frankfurt am Main", 50.1109, 8.6821, 0.8),
            City("Baden-Württemberg", "Stuttgart", 48.7758, 9.1829, 0.6),
        ),
    ),
    Country(
        "France",
        "EUR",
        "fr",
        0.12,
        (
            City("Île-de-France", "Paris", 48.8566, 2.3522, 2.1),
            City("Provence-Alpes-Côte d'Azur", "Marseille", 43.2965, 5.3698, 0.9),
            City("Auvergne-Rhône-Alpes", "Lyon", 45.7640, 4.8357, 0.5),
            City("Occitanie", "Toulouse", 43.6047, 1.4442, 0.5),
            City("Nouvelle-Aquitaine", "Bordeaux", 44.8378, -0.5792, 0.3),
        ),
    ),
    Country(
        "Spain",
        "EUR",
        "es",
        0.07,
        (
            City("Community of Madrid", "Madrid", 40.4168, -3.7038, 3.3),
            City("Catalonia", "Barcelona", 41.3874, 2.1686, 1.6),
            City("Valencian Community", "Valencia", 39.4699, -0.3763, 0.8),
            City("Andalusia", "Seville", 37.3891, -5.9845, 0.7),
        ),
    ),
    Country(
        "Netherlands",
        "EUR",
        "nl",
        0.06,
        (
            City("North Holland", "Amsterdam", 52.3676, 4.9041, 0.9),
            City("South Holland", "Rotterdam", 51.9244, 4.4777, 0.65),
            City("Utrecht", "Utrecht", 52.0907, 5.1214, 0.36),
        ),
    ),
    Country(
        "Sweden",
        "SEK",
        "sv",
        0.05,
        (
            City("Stockholm", "Stockholm", 59.3293, 18.0686, 1.0),
            City("Västra Götaland", "Gothenburg", 57.7089, 11.9746, 0.6),
            City("Skåne", "Malmö", 55.6050, 13.0038, 0.35),
        ),
    ),
)


@dataclass(frozen=True)
class CityTable:
    """The places flattened to parallel arrays, one entry per city.

    ``weight`` is the probability of a customer living in the city: the
    country's weight split over its cities by population.
    """

    country: list[str]
    currency: list[str]
    language: list[str]
    region: list[str]
    city: list[str]
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray


def city_table() -> CityTable:
    """Flatten :data:`COUNTRIES` into a :class:`CityTable`.

    Examples
    --------
    >>> t = city_table()
    >>> round(float(t.weight.sum()), 6)
    1.0
    >>> t.city[0], t.country[0]
    ('London', 'United Kingdom')
    """
    rows = [(country, city) for country in COUNTRIES for city in country.cities]
    weight = np.array([c.weight * city.weight / sum(x.weight for x in c.cities) for c, city in rows])
    return CityTable(
        country=[c.name for c, _ in rows],
        currency=[c.currency for c, _ in rows],
        language=[c.language for c, _ in rows],
        region=[city.region for _, city in rows],
        city=[city.name for _, city in rows],
        lat=np.array([city.lat for _, city in rows]),
        lon=np.array([city.lon for _, city in rows]),
        weight=weight / weight.sum(),
    )
