"""What counts as personal data, and how column names hint at it.

Direct identifiers single a person out on their own; quasi-identifiers do so
in combination (Sweeney: ZIP, gender and date of birth identify 87% of the US
population). GDPR Art. 9 special categories need a human review whatever the
model does with them.
"""

from __future__ import annotations

import re

DIRECT_ENTITIES = frozenset(
    {
        "PERSON",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "US_ITIN",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "UK_NHS",
        "IP_ADDRESS",
        "MEDICAL_LICENSE",
        "CRYPTO",
        "MAC_ADDRESS",
        "STREET_ADDRESS",
    }
)
QUASI_ENTITIES = frozenset({"LOCATION", "DATE_TIME", "NRP", "AGE", "ZIP_CODE"})

# Entities reported by default. Presidio's weak, context-dependent recognizers
# (bank numbers, driver licences, ITIN, UUID) stay available through pii.entities.
DEFAULT_ENTITIES = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "UK_NHS",
    "US_PASSPORT",
    "MEDICAL_LICENSE",
    "CRYPTO",
    "LOCATION",
    "STREET_ADDRESS",
    "DATE_TIME",
    "NRP",
    "URL",
)

# Words that, in a column name, make an entity expected (Presidio's analyze_dict
# passes the key as context in the same spirit).
CONTEXT_WORDS: dict[str, tuple[str, ...]] = {
    "PERSON": ("name", "customer", "person", "contact", "applicant", "owner", "patient", "employee", "signer"),
    "EMAIL_ADDRESS": ("email", "e_mail", "mail"),
    "PHONE_NUMBER": ("phone", "tel", "mobile", "cell", "fax", "msisdn"),
    "CREDIT_CARD": ("card", "pan", "cc", "cc_number", "credit_card"),
    "IBAN_CODE": ("iban", "account"),
    "US_SSN": ("ssn", "social_security", "social"),
    "IP_ADDRESS": ("ip", "ip_address", "ipaddr", "client_ip"),
    "LOCATION": ("city", "town", "country", "region", "state", "county", "location", "place"),
    "STREET_ADDRESS": ("address", "street", "addr", "residence"),
    "DATE_TIME": ("birth", "dob", "birthday"),
    "UK_NHS": ("nhs",),
    "US_PASSPORT": ("passport",),
}
# Words that make an entity implausible: an ID or amount column is not a phone column.
NEGATIVE_CONTEXT = ("product", "sku", "order", "invoice", "amount", "price", "code", "ref", "item", "part", "batch")

QUASI_IDENTIFIER_NAMES = re.compile(
    r"(^|_)(age|zip|zipcode|postcode|postal|post_code|gender|sex|dob|birth|birthdate|date_of_birth|"
    r"city|town|county|state|region|nationality|ethnicity|race|occupation|job|marital)(_|$)",
    re.IGNORECASE,
)
KEY_NAMES = re.compile(r"(^|_)(id|uuid|guid|key|number|no|num|ref|reference|account)(_|$)", re.IGNORECASE)

# GDPR Art. 9(1) special categories, as deny-list signals for human review.
# NRP (nationality, religious or political group) comes from spaCy NER.
SPECIAL_CATEGORY_TERMS: dict[str, tuple[str, ...]] = {
    "HEALTH": (
        "diabetes",
        "diabetic",
        "cancer",
        "chemotherapy",
        "hiv",
        "aids",
        "asthma",
        "depression",
        "anxiety disorder",
        "pregnant",
        "pregnancy",
        "disability",
        "disabled",
        "dementia",
        "epilepsy",
        "hepatitis",
        "treatment for",
        "diagnosed",
        "diagnosis",
        "mental health",
        "psychiatric",
        "surgery",
        "medication",
        "rehab",
        "therapy",
        "sick leave",
        "illness",
        "chronic",
    ),
    "RELIGION": (
        "church",
        "mosque",
        "synagogue",
        "temple",
        "prayer",
        "catholic",
        "protestant",
        "muslim",
        "jewish",
        "hindu",
        "buddhist",
        "sikh",
        "christian",
        "islam",
        "ramadan",
        "kosher",
        "halal",
    ),
    "TRADE_UNION": ("trade union", "union member", "labour union", "labor union", "union dues", "shop steward"),
    "POLITICAL_OPINION": ("political party", "party member", "voted for", "campaign volunteer", "activist"),
    "SEX_LIFE_OR_ORIENTATION": ("gay", "lesbian", "bisexual", "transgender", "sexual orientation", "same-sex partner"),
    "ETHNIC_ORIGIN": ("ethnicity", "ethnic origin", "racial", "asylum", "refugee"),
    "BIOMETRIC_OR_GENETIC": ("fingerprint", "dna", "genetic", "biometric", "retina", "face scan"),
}
SPECIAL_ENTITIES = frozenset(SPECIAL_CATEGORY_TERMS) | {"NRP"}


def name_tokens(column: str) -> list[str]:
    """``CustomerEmail`` and ``customer-email`` both give ['customer', 'email']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def expected_entities(column: str) -> set[str]:
    tokens = name_tokens(column)
    joined = "_".join(tokens)
    found = set()
    for entity, words in CONTEXT_WORDS.items():
        if any(w in tokens or ("_" in w and w in joined) for w in words):
            found.add(entity)
    return found


def negative_context(column: str) -> bool:
    return any(t in NEGATIVE_CONTEXT for t in name_tokens(column))


def is_quasi_identifier_name(column: str) -> bool:
    return bool(QUASI_IDENTIFIER_NAMES.search("_".join(name_tokens(column))))


def is_key_name(column: str) -> bool:
    return bool(KEY_NAMES.search("_".join(name_tokens(column))))


# Nationalities and their demonyms (NRP: nationality, religious or political group). spaCy's
# small model misses many, above all in lower case ("we are proud estonians").
DEMONYMS = (
    "afghan",
    "albanian",
    "algerian",
    "american",
    "andorran",
    "angolan",
    "argentine",
    "argentinian",
    "armenian",
    "australian",
    "austrian",
    "azerbaijani",
    "bahamian",
    "bahraini",
    "bangladeshi",
    "barbadian",
    "belarusian",
    "belgian",
    "belizean",
    "beninese",
    "bhutanese",
    "bolivian",
    "bosnian",
    "botswanan",
    "brazilian",
    "british",
    "bruneian",
    "bulgarian",
    "burkinabe",
    "burmese",
    "burundian",
    "cambodian",
    "cameroonian",
    "canadian",
    "chadian",
    "chilean",
    "chinese",
    "colombian",
    "congolese",
    "costa rican",
    "croatian",
    "cuban",
    "cypriot",
    "czech",
    "danish",
    "dane",
    "djiboutian",
    "dominican",
    "dutch",
    "ecuadorian",
    "egyptian",
    "emirati",
    "english",
    "eritrean",
    "estonian",
    "ethiopian",
    "fijian",
    "filipino",
    "finnish",
    "finn",
    "french",
    "gabonese",
    "gambian",
    "georgian",
    "german",
    "ghanaian",
    "greek",
    "grenadian",
    "guatemalan",
    "guinean",
    "guyanese",
    "haitian",
    "honduran",
    "hungarian",
    "icelandic",
    "icelander",
    "indian",
    "indonesian",
    "iranian",
    "iraqi",
    "irish",
    "israeli",
    "italian",
    "ivorian",
    "jamaican",
    "japanese",
    "jordanian",
    "kazakh",
    "kenyan",
    "korean",
    "kosovar",
    "kuwaiti",
    "kyrgyz",
    "laotian",
    "latvian",
    "lebanese",
    "liberian",
    "libyan",
    "lithuanian",
    "luxembourgish",
    "macedonian",
    "malagasy",
    "malawian",
    "malaysian",
    "maldivian",
    "malian",
    "maltese",
    "mauritanian",
    "mauritian",
    "mexican",
    "moldovan",
    "monegasque",
    "mongolian",
    "montenegrin",
    "moroccan",
    "mozambican",
    "namibian",
    "nepalese",
    "nepali",
    "nicaraguan",
    "nigerian",
    "nigerien",
    "norwegian",
    "omani",
    "pakistani",
    "palestinian",
    "panamanian",
    "paraguayan",
    "peruvian",
    "polish",
    "pole",
    "portuguese",
    "qatari",
    "romanian",
    "russian",
    "rwandan",
    "salvadoran",
    "samoan",
    "saudi",
    "scottish",
    "scot",
    "senegalese",
    "serbian",
    "seychellois",
    "singaporean",
    "slovak",
    "slovakian",
    "slovenian",
    "somali",
    "spanish",
    "spaniard",
    "sri lankan",
    "sudanese",
    "surinamese",
    "swazi",
    "swedish",
    "swede",
    "swiss",
    "syrian",
    "taiwanese",
    "tajik",
    "tanzanian",
    "thai",
    "togolese",
    "tongan",
    "trinidadian",
    "tunisian",
    "turkish",
    "turk",
    "turkmen",
    "ugandan",
    "ukrainian",
    "uruguayan",
    "uzbek",
    "venezuelan",
    "vietnamese",
    "welsh",
    "yemeni",
    "zambian",
    "zimbabwean",
)
