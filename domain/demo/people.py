"""Who the demo customers are: names, contact details, locale, birthday and consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from domain.channels.models import ChannelCode
from domain.demo.archetypes import A, Archetype, C
from domain.demo.sampling import HOUR, BoolArray, IntArray, blank, pick

# (language, country, time zone, standard UTC offset in hours, phone prefix, weight)
LOCALES: tuple[tuple[str, str, str, int, str, float], ...] = (
    ("en", "United States", "America/New_York", -5, "+1212", 14),
    ("en", "United States", "America/Chicago", -6, "+1312", 8),
    ("en", "United States", "America/Los_Angeles", -8, "+1213", 10),
    ("en", "United Kingdom", "Europe/London", 0, "+4420", 13),
    ("es", "Spain", "Europe/Madrid", 1, "+3491", 10),
    ("es", "Mexico", "America/Mexico_City", -6, "+5255", 10),
    ("zh", "China", "Asia/Shanghai", 8, "+8621", 10),
    ("zh", "Singapore", "Asia/Singapore", 8, "+65", 5),
    ("ru", "Russia", "Europe/Moscow", 3, "+7495", 10),
)
LANGUAGES: tuple[str, ...] = ("en", "es", "zh", "ru")
LOCALE_LANGUAGE = np.array([LANGUAGES.index(locale[0]) for locale in LOCALES], dtype=np.int64)
LOCALE_OFFSET = np.array([locale[3] * HOUR for locale in LOCALES], dtype=np.int64)

# Per language: (native, latin) first names, the first ten female; last names likewise.
FIRST_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": tuple(
        (name, name.lower())
        for name in [
            "Olivia",
            "Emma",
            "Ava",
            "Sophia",
            "Isabella",
            "Mia",
            "Amelia",
            "Harper",
            "Evelyn",
            "Abigail",
            "Liam",
            "Noah",
            "Oliver",
            "James",
            "Elijah",
            "William",
            "Henry",
            "Lucas",
            "Benjamin",
            "Theodore",
        ]
    ),
    "es": (
        ("Lucía", "lucia"),
        ("Sofía", "sofia"),
        ("Martina", "martina"),
        ("María", "maria"),
        ("Julia", "julia"),
        ("Paula", "paula"),
        ("Valeria", "valeria"),
        ("Elena", "elena"),
        ("Daniela", "daniela"),
        ("Carla", "carla"),
        ("Hugo", "hugo"),
        ("Mateo", "mateo"),
        ("Martín", "martin"),
        ("Lucas", "lucas"),
        ("Leo", "leo"),
        ("Daniel", "daniel"),
        ("Alejandro", "alejandro"),
        ("Pablo", "pablo"),
        ("Manuel", "manuel"),
        ("Álvaro", "alvaro"),
    ),
    "zh": (
        ("芳", "fang"),
        ("娜", "na"),
        ("敏", "min"),
        ("静", "jing"),
        ("丽", "li"),
        ("艳", "yan"),
        ("娟", "juan"),
        ("秀英", "xiuying"),
        ("霞", "xia"),
        ("婷", "ting"),
        ("伟", "wei"),
        ("强", "qiang"),
        ("磊", "lei"),
        ("洋", "yang"),
        ("勇", "yong"),
        ("军", "jun"),
        ("杰", "jie"),
        ("涛", "tao"),
        ("明", "ming"),
        ("超", "chao"),
    ),
    "ru": (
        ("Анна", "anna"),
        ("Мария", "maria"),
        ("Елена", "elena"),
        ("Ольга", "olga"),
        ("Наталья", "natalia"),
        ("Екатерина", "ekaterina"),
        ("Татьяна", "tatiana"),
        ("Ирина", "irina"),
        ("Светлана", "svetlana"),
        ("Дарья", "daria"),
        ("Александр", "aleksandr"),
        ("Дмитрий", "dmitry"),
        ("Максим", "maksim"),
        ("Сергей", "sergey"),
        ("Андрей", "andrey"),
        ("Алексей", "aleksey"),
        ("Иван", "ivan"),
        ("Михаил", "mikhail"),
        ("Никита", "nikita"),
        ("Артём", "artyom"),
    ),
}
LAST_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": tuple(
        (name, name.lower())
        for name in [
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Wilson",
            "Taylor",
            "Clark",
            "Lewis",
            "Walker",
            "Hall",
            "Young",
            "King",
            "Wright",
            "Scott",
            "Green",
            "Baker",
        ]
    ),
    "es": (
        ("García", "garcia"),
        ("Rodríguez", "rodriguez"),
        ("González", "gonzalez"),
        ("Fernández", "fernandez"),
        ("López", "lopez"),
        ("Martínez", "martinez"),
        ("Sánchez", "sanchez"),
        ("Pérez", "perez"),
        ("Gómez", "gomez"),
        ("Martín", "martin"),
        ("Jiménez", "jimenez"),
        ("Ruiz", "ruiz"),
        ("Hernández", "hernandez"),
        ("Díaz", "diaz"),
        ("Moreno", "moreno"),
        ("Muñoz", "munoz"),
        ("Álvarez", "alvarez"),
        ("Romero", "romero"),
        ("Navarro", "navarro"),
        ("Torres", "torres"),
    ),
    "zh": (
        ("王", "wang"),
        ("李", "li"),
        ("张", "zhang"),
        ("刘", "liu"),
        ("陈", "chen"),
        ("杨", "yang"),
        ("黄", "huang"),
        ("赵", "zhao"),
        ("吴", "wu"),
        ("周", "zhou"),
        ("徐", "xu"),
        ("孙", "sun"),
        ("马", "ma"),
        ("朱", "zhu"),
        ("胡", "hu"),
        ("郭", "guo"),
        ("何", "he"),
        ("林", "lin"),
        ("高", "gao"),
        ("罗", "luo"),
    ),
    "ru": (
        ("Иванов", "ivanov"),
        ("Смирнов", "smirnov"),
        ("Кузнецов", "kuznetsov"),
        ("Попов", "popov"),
        ("Васильев", "vasilyev"),
        ("Петров", "petrov"),
        ("Соколов", "sokolov"),
        ("Михайлов", "mikhaylov"),
        ("Новиков", "novikov"),
        ("Фёдоров", "fyodorov"),
        ("Морозов", "morozov"),
        ("Волков", "volkov"),
        ("Алексеев", "alekseev"),
        ("Лебедев", "lebedev"),
        ("Семёнов", "semyonov"),
        ("Егоров", "egorov"),
        ("Павлов", "pavlov"),
        ("Козлов", "kozlov"),
        ("Степанов", "stepanov"),
        ("Николаев", "nikolaev"),
    ),
}
_NAMES_PER_LIST = 20
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
FEMALE_SHARE = 0.7
CONTACTABLE: tuple[ChannelCode, ...] = (
    ChannelCode.EMAIL,
    ChannelCode.SMS,
    ChannelCode.MESSAGING,
    ChannelCode.APP,
)


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat name tables indexed by language * 20 + name number (female last names in Russian)."""
    first = [pair for language in LANGUAGES for pair in FIRST_NAMES[language]]
    last = [pair for language in LANGUAGES for pair in LAST_NAMES[language]]
    return (
        np.array([native for native, _ in first], dtype=object),
        np.array([latin for _, latin in first], dtype=object),
        np.array([native for native, _ in last], dtype=object),
        np.array([latin for _, latin in last], dtype=object),
    )


_FIRST_NATIVE, _FIRST_LATIN, _LAST_NATIVE, _LAST_LATIN = _tables()


@dataclass(frozen=True)
class Identity:
    """Names and contact details of a block of customers (text columns as object arrays)."""

    name: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    birthday: np.ndarray


def draw_identity(
    rng: np.random.Generator,
    ids: IntArray,
    locale: IntArray,
    is_prospect: BoolArray,
    as_of: date,
) -> Identity:
    """Names in each customer's language, unique emails and phones, some birthdays."""
    n = len(ids)
    language = LOCALE_LANGUAGE[locale]
    female = rng.random(n) < FEMALE_SHARE
    first = language * _NAMES_PER_LIST + rng.integers(0, 10, n) + np.where(female, 0, 10)
    last = language * _NAMES_PER_LIST + rng.integers(0, _NAMES_PER_LIST, n)
    last_native = _LAST_NATIVE[last]
    russian_female = female & (language == LANGUAGES.index("ru"))
    last_native = np.where(russian_female, last_native + "а", last_native)
    last_latin = np.where(russian_female, _LAST_LATIN[last] + "a", _LAST_LATIN[last])
    chinese = language == LANGUAGES.index("zh")
    name = np.where(
        chinese, last_native + _FIRST_NATIVE[first], _FIRST_NATIVE[first] + " " + last_native
    )
    id_text = ids.astype(str).astype(object)
    domains = np.array(_EMAIL_DOMAINS, dtype=object)[ids % len(_EMAIL_DOMAINS)]
    email = _FIRST_LATIN[first] + "." + last_latin + id_text + "@" + domains
    has_email = is_prospect | (rng.random(n) < 0.96)
    prefixes = np.array([locale_[4] for locale_ in LOCALES], dtype=object)[locale]
    phone = prefixes + np.char.zfill(ids.astype(str), 8).astype(object)
    has_phone = rng.random(n) < 0.6
    age_years = 20 + rng.beta(2.5, 3.5, n) * 30
    year = as_of.year - age_years.astype(np.int64)
    birthday = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(
        0, 365, n
    ).astype("timedelta64[D]")
    has_birthday = rng.random(n) < 0.85
    return Identity(
        name=name,
        email=blank(email, ~has_email),
        phone=blank(phone, ~has_phone),
        birthday=np.where(has_birthday, birthday, np.datetime64("NaT")),
    )


@dataclass(frozen=True)
class ConsentRows:
    """Consent per customer and contactable channel, plus each customer's email opt-out."""

    customer: IntArray
    channel: IntArray
    granted: BoolArray
    source: np.ndarray
    updated_at: IntArray
    email_granted: BoolArray
    opted_out_at: IntArray


def draw_consent(
    rng: np.random.Generator,
    *,
    archetype: IntArray,
    channel: IntArray,
    has_email: BoolArray,
    has_phone: BoolArray,
    created_at: IntArray,
    now: int,
) -> ConsentRows:
    """Most agree to email, fewer to SMS and messaging; some opt out of email later."""
    n = len(archetype)
    prospect = archetype == A[Archetype.PROSPECT]
    buyer = ~prospect & (archetype != A[Archetype.LEAD])
    u = rng.random((4, n))
    email_granted = has_email & ((u[0] < 0.86) | prospect)
    email_refused = has_email & ~email_granted & (u[0] < 0.93)
    sms_granted = has_phone & (u[1] < 0.45)
    sms_refused = has_phone & ~sms_granted & (u[1] < 0.51)
    messaging_granted = has_phone & (u[2] < 0.35)
    app_granted = np.where(channel == C[ChannelCode.APP], u[3] < 0.8, u[3] < 0.12)
    opted_out_at = np.where(
        email_refused,
        created_at + ((now - created_at) * rng.uniform(0.1, 0.95, n)).astype(np.int64),
        0,
    )
    signup_source = np.where(
        channel == C[ChannelCode.OFFLINE_STORE], "store", np.where(buyer, "checkout", "signup")
    ).astype(object)
    blocks = [
        (ChannelCode.EMAIL, email_granted | email_refused, email_granted, signup_source),
        (ChannelCode.SMS, sms_granted | sms_refused, sms_granted, signup_source),
        (ChannelCode.MESSAGING, messaging_granted, messaging_granted, signup_source),
        (ChannelCode.APP, app_granted, app_granted, np.full(n, "app", dtype=object)),
    ]
    customers, channels, granted, sources, updated = [], [], [], [], []
    for code, has_row, agreed, source in blocks:
        rows = np.flatnonzero(has_row)
        customers.append(rows)
        channels.append(np.full(len(rows), C[code], dtype=np.int64))
        granted.append(agreed[rows])
        refused_email = (code == ChannelCode.EMAIL) & ~agreed[rows]
        sources.append(np.where(refused_email, "unsubscribe link", source[rows]))
        updated.append(np.where(refused_email, opted_out_at[rows], created_at[rows]))
    customer = np.concatenate(customers)
    order = np.argsort(customer, kind="stable")
    return ConsentRows(
        customer=customer[order],
        channel=np.concatenate(channels)[order],
        granted=np.concatenate(granted)[order],
        source=np.concatenate(sources)[order],
        updated_at=np.concatenate(updated)[order],
        email_granted=email_granted,
        opted_out_at=opted_out_at,
    )


def draw_locales(rng: np.random.Generator, n: int) -> IntArray:
    """A locale (language, country, time zone) per customer."""
    return pick(rng, [locale[5] for locale in LOCALES], n)
