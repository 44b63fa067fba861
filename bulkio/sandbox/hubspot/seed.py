"""Realistic HubSpot portals, mess included, fast enough for a million contacts.

The mess is what the import guide seed warns about: the contact's own `company` property empty
while a company is associated (a quirk the guide warns about), missing first or last names, `phone` empty but
`mobilephone` set, contacts without an email, several associated companies (the primary one
not always first, sometimes none marked primary), companies without a domain.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from .store import PRIMARY, UNLABELED, HubSpotStore

FIRST = ("james mary robert patricia john jennifer michael linda david elizabeth carlos sofia "
         "kenji amara mateo chloe lucas ines omar priya liam emma noah olivia wei nadia hugo "
         "aisha tomasz ingrid diego fatima").split()
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez lopez wilson "
        "anderson taylor moore jackson martin lee perez thompson white harris clark lewis walker "
        "young allen king wright nguyen hill kowalski dubois tanaka okafor svensson").split()
COMPANY_WORDS = ("Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Cyberdyne Soylent Tyrell "
                 "Wonka Aperture Massive Pied Oscorp Nakatomi Gringotts Blue Northwind").split()
SUFFIXES = ("Inc", "Labs", "Systems", "Group", "Ltd", "GmbH", "SA", "Partners")
INDUSTRIES = ("COMPUTER_SOFTWARE", "FINANCIAL_SERVICES", "MARKETING_AND_ADVERTISING",
              "HOSPITAL_HEALTH_CARE", "RETAIL", "LOGISTICS_AND_SUPPLY_CHAIN", "EDUCATION_MANAGEMENT")
STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
          "customer")
STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "CONNECTED", "UNQUALIFIED")
TITLES = ("CEO", "CTO", "VP Sales", "Head of Marketing", "RevOps Manager", "Account Executive",
          "SDR", "Data Engineer", "COO", "Product Manager")
CITIES = ("Boston", "Austin", "London", "Paris", "Berlin", "Toronto", "Madrid", "Sydney")
COUNTRIES = ("United States", "United Kingdom", "France", "Germany", "Canada", "Spain")
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com")
BATCH = 20_000


def seed_hubspot(store: HubSpotStore, rng: random.Random, *, contacts: int, leads_v1: int,
                 bulk_edit: int = 0, skew_s: float = 0.0) -> None:
    """Fill the twin: `contacts` CRM contacts (and a company for about every four), and
    `leads_v1` legacy leads inserted over the past year; `bulk_edit` of the contacts last
    modified at one and the same moment (now, in the portal's clock: `skew_s` apart)."""
    companies = max(1, contacts // 4) if contacts else 0
    domains: list[str | None] = []
    for start in range(0, companies, BATCH):
        rows = [_company(rng, cid) for cid in range(start + 1, min(companies, start + BATCH) + 1)]
        domains.extend(props.get("domain") for _, props in rows)
        store.add_companies(rows)
    for start in range(0, contacts, BATCH):
        stop = min(contacts, start + BATCH)
        store.add_contacts(_contact(rng, cid, companies, domains) for cid in range(start + 1, stop + 1))
    now_ms = int((time.time() + skew_s) * 1000)
    store.stamp(range(1, min(bulk_edit, contacts) + 1), now_ms)
    for start in range(0, leads_v1, BATCH):
        stop = min(leads_v1, start + BATCH)
        store.add_v1_leads(v1_lead(rng, n, now_ms - (leads_v1 - n) * 60_000) for n in range(start, stop))


def _company(rng: random.Random, cid: int) -> tuple[int, dict[str, Any]]:
    word = rng.choice(COMPANY_WORDS)
    name = f"{word} {rng.choice(SUFFIXES)} {cid}"
    props: dict[str, Any] = {"name": name, "city": rng.choice(CITIES),
                             "country": rng.choice(COUNTRIES)}
    if rng.random() < 0.85:  # some companies have no domain
        props["domain"] = f"{word.lower()}{cid}.com"
    if rng.random() < 0.7:
        props["industry"] = rng.choice(INDUSTRIES)
    return cid, props


def _contact(rng: random.Random, cid: int, companies: int, domains: list[str | None]
             ) -> tuple[int, dict[str, Any], list[tuple[int, str]], str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    roll = rng.random()
    links: list[tuple[int, str]] = []
    if roll < 0.75:
        links = [(rng.randint(1, companies), PRIMARY)]
    elif roll < 0.85:  # two companies, the primary one second
        links = [(rng.randint(1, companies), UNLABELED), (rng.randint(1, companies), PRIMARY)]
    elif roll < 0.90:  # two companies, none marked primary
        links = [(rng.randint(1, companies), UNLABELED), (rng.randint(1, companies), UNLABELED)]
    domain = domains[links[0][0] - 1] if links else None
    props: dict[str, Any] = {
        "firstname": first.capitalize() if rng.random() > 0.08 else None,
        "lastname": last.capitalize() if rng.random() > 0.08 else None,
        "email": f"{first}.{last}.{cid}@{domain or rng.choice(FREE_MAIL)}" if rng.random() > 0.04
        else None,
        "jobtitle": rng.choice(TITLES) if rng.random() < 0.85 else None,
        "lifecyclestage": rng.choice(STAGES) if rng.random() < 0.9 else None,
        "hs_lead_status": rng.choice(STATUSES) if rng.random() < 0.6 else None,
        "city": rng.choice(CITIES), "country": rng.choice(COUNTRIES),
        # The guide's warning: the contact's own company text is empty while a company is associated.
        "company": (rng.choice(("", None)) if links else
                    f"{rng.choice(COMPANY_WORDS)} Co" if rng.random() < 0.5 else None),
    }
    phone = f"+1 617 555 {rng.randrange(1000, 9999)}"
    if rng.random() < 0.5:
        props["phone"] = phone
    elif rng.random() < 0.6:  # phone empty, mobilephone set
        props["phone"] = ""
        props["mobilephone"] = phone
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1_700_000_000 + cid * 37))
    return cid, props, links, created


def new_contact(rng: random.Random, cid: int, now_ms: int
                ) -> tuple[int, dict[str, Any], list[tuple[int, str]], str]:
    """A contact created now, without a company (churn's new contacts)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    props = {"firstname": first.capitalize(), "lastname": last.capitalize(),
             "email": f"{first}.{last}.{cid}@{rng.choice(FREE_MAIL)}",
             "jobtitle": rng.choice(TITLES)}
    created = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(now_ms / 1000)) + \
        f"{now_ms % 1000:03d}Z"
    return cid, props, [], created


def v1_lead(rng: random.Random, n: int, inserted_at: int) -> dict[str, Any]:
    """A legacy v1 lead as HubSpot's v1 documentation shows one (empty strings for missing values)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    guid = f"{rng.getrandbits(128):032x}"
    company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(SUFFIXES)}"
    website = f"http://www.{company.split()[0].lower()}.com" if rng.random() < 0.7 else ""
    return {
        "guid": guid, "id": guid, "leadId": 800_000 + n, "portalId": 62515,
        "firstName": first.capitalize() if rng.random() > 0.05 else "",
        "lastName": last.capitalize() if rng.random() > 0.05 else "",
        "email": f"{first}.{last}.v1.{n}@example.org" if rng.random() > 0.03 else "",
        "company": company, "jobTitle": rng.choice(TITLES) if rng.random() < 0.8 else "",
        "phone": f"+1 617 555 {rng.randrange(1000, 9999)}" if rng.random() < 0.6 else "",
        "website": website, "city": rng.choice(CITIES) if rng.random() < 0.7 else "",
        "country": rng.choice(COUNTRIES) if rng.random() < 0.7 else "", "industry": "",
        "insertedAt": inserted_at, "lastModifiedAt": inserted_at, "isDeleted": False,
        "isCustomer": False, "score": round(rng.uniform(0, 100), 2), "numConversionEvents": 0,
        "leadConversionEvents": [],
    }


def new_v1_leads(rng: random.Random, count: int, now_ms: int, serial: int) -> Iterator[dict[str, Any]]:
    """Leads arriving now (the list growing while it is paged)."""
    for k in range(count):
        yield v1_lead(rng, serial + k, now_ms)
