"""Realistic fake tenants: clients with B2B leads, fast enough to seed 1,000,000 in seconds."""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson

from .store import ENRICH, SOURCE, Store, User, now_iso

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
         "Richard Susan Joseph Jessica Thomas Sarah Carlos Karen Wei Nadia Hugo Amara Kenji "
         "Sofia Mateo Chloe Lucas Ines Omar Priya Liam Emma Noah Olivia Ethan Ava Mia Arjun "
         "Fatima Yuki Lars Ingrid Diego Zoe Pierre Camille Aisha Tomasz").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
        "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
        "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
        "Roberts Kowalski Dubois Tanaka Okafor Svensson").split()
TITLES = ("CEO|CTO|CFO|VP Sales|VP Engineering|Head of Marketing|Sales Director|RevOps Manager|"
          "Account Executive|SDR|Product Manager|Data Engineer|Head of Growth|COO|"
          "Marketing Ops Lead|Customer Success Manager").split("|")
CITIES = ("New York|San Francisco|London|Paris|Berlin|Toronto|Austin|Madrid|Tokyo|Sydney|"
          "Lagos|Stockholm|Warsaw|Chicago|Boston").split("|")
CLIENT_NAMES = ("Acme Corp|Historic Leads|Northwind Traders|Contoso|Fabrikam|Tailspin Toys|"
                "Wide World Importers|Litware|Proseware|Adventure Works|Blue Yonder|Coho Winery|"
                "Fourth Coffee|Lucerne Publishing|Margie Travel|Trey Research|Woodgrove Bank|"
                "Alpine Ski House|Humongous Insurance|Graphic Design Institute").split("|")


def _company_list() -> list[tuple[str, str]]:
    text = ("Acme Corp|acme.com;Globex|globex.io;Initech|initech.com;Umbrella Labs|umbrella-labs.com;"
            "Stark Industries|stark.co;Wayne Enterprises|wayne.com;Hooli|hooli.xyz;"
            "Vandelay Import|vandelay.net;Cyberdyne|cyberdyne.ai;Soylent|soylent.com;"
            "Tyrell Systems|tyrell.io;Wonka Foods|wonka.com;Aperture Science|aperture.tech;"
            "Massive Dynamic|massivedynamic.com;Pied Piper|piedpiper.com;Oscorp|oscorp.org;"
            "Nakatomi Trading|nakatomi.jp;Gringotts|gringotts.co.uk;Blue Sun|bluesun.space")
    return [(name, domain) for name, domain in (pair.split("|") for pair in text.split(";"))]


_COMPANY_LIST = _company_list()


def fake_lead_rows(rng: random.Random, user: User, client_id: str, count: int, start: int,
                   kind: int = ENRICH) -> Iterator[tuple[str, int, str, str, str]]:
    """Rows for Store.insert_lead_rows: `count` leads numbered from `start` (unique emails)."""
    stamp = now_iso()
    dumps = orjson.dumps
    choice = rng.choice
    bits = rng.getrandbits
    for n in range(start, start + count):
        first, last = choice(FIRST), choice(LAST)
        company, domain = choice(_COMPANY_LIST)
        h = f"{bits(128):032x}"
        lead_id = f"lead-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        lead = {
            "id": lead_id, "client_id": client_id, "firstName": first, "lastName": last,
            "email": f"{first.lower()}.{last.lower()}.{n}@{domain}",
            "companyName": company, "companyDomain": domain, "companyUrl": f"https://{domain}",
            "title": choice(TITLES), "city": choice(CITIES),
            "phoneNumber": f"+1-555-{n % 10000:04d}",
            "linkedinUrl": f"https://linkedin.com/in/{first.lower()}-{last.lower()}-{n}",
            "company_id": user.company_id, "owner": user.id, "createdAt": stamp,
            "updatedAt": stamp,
        }
        yield lead_id, kind, user.company_id, client_id, dumps(lead).decode()


def seed(store: Store, user: User, clients: int, leads: int, source_leads: int,
         rng: random.Random) -> list[dict[str, object]]:
    """Create `clients` clients and spread `leads` enrich and `source_leads` source leads over
    them evenly. With leads but no clients, one client is created. Returns the clients."""
    if (leads or source_leads) and not clients:
        clients = 1
    created = []
    for i in range(clients):
        name = CLIENT_NAMES[i % len(CLIENT_NAMES)]
        if i >= len(CLIENT_NAMES):
            name = f"{name} {i // len(CLIENT_NAMES) + 1}"
        created.append(store.create_client(user.company_id, user.id, {
            "clientName": name, "companyURL": f"https://{name.lower().replace(' ', '')}.example",
            "description": "Made by the bulkio sandbox"}))
    if not created:
        return created
    start = store.db.execute("SELECT coalesce(max(seq), 0) FROM leads").fetchone()[0]
    with store.bulk_load():
        for kind, total in ((ENRICH, leads), (SOURCE, source_leads)):
            share, extra = divmod(total, len(created))
            for i, client in enumerate(created):
                n = share + (1 if i < extra else 0)
                store.insert_lead_rows(
                    fake_lead_rows(rng, user, str(client["client_id"]), n, start, kind))
                start += n
    return created
