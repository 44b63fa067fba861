"""The HubSpot import guide's script template (its sections 3 and 6), as a user would run it:
every contact fetched into memory first (100 a page, with their company associations), the
companies batch-read 100 at a time, then one `requests` POST per lead with a 150 ms sleep and a
fresh login every 200 leads.

    python hubspot_guide.py BASE_URL EMAIL PASSWORD CLIENT_SLUG HUBSPOT_BASE HUBSPOT_TOKEN

Only the URLs and credentials come from the command line; the method is the guide's.
"""

import re
import sys
import time

import requests

BASE, EMAIL, PASSWORD, CLIENT_ID, HS_BASE, HUBSPOT_TOKEN = sys.argv[1:7]
LG_BASE = BASE + "/api"
hs_headers = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}

# Step A: fetch ALL contacts with company associations
contacts = []
after = None
props = "firstname,lastname,email,jobtitle,phone,mobilephone,city,country,lifecyclestage,hs_lead_status"
while True:
    url = f"{HS_BASE}/crm/v3/objects/contacts?limit=100&properties={props}&associations=companies"
    if after:
        url += f"&after={after}"
    data = requests.get(url, headers=hs_headers, timeout=30).json()
    contacts.extend(data["results"])
    after = data.get("paging", {}).get("next", {}).get("after")
    if not after:
        break

# Steps B and C: unique company ids, batch-read 100 at a time
company_ids = set()
for c in contacts:
    for a in c.get("associations", {}).get("companies", {}).get("results", []):
        company_ids.add(a["id"])
companies = {}
company_list = list(company_ids)
for i in range(0, len(company_list), 100):
    batch = company_list[i:i + 100]
    resp = requests.post(f"{HS_BASE}/crm/v3/objects/companies/batch/read",
                         headers={**hs_headers, "Content-Type": "application/json"},
                         json={"properties": ["name", "domain", "industry", "phone", "city",
                                              "country"],
                               "inputs": [{"id": cid} for cid in batch]}, timeout=30)
    for r in resp.json().get("results", []):
        companies[r["id"]] = r["properties"]


def lg_refresh():
    resp = requests.post(f"{LG_BASE}/auth", json={"username": EMAIL, "password": PASSWORD},
                         headers={"Content-Type": "application/json"}, timeout=15)
    return resp.json()["tokens"]["accessToken"]


def build_lead(contact, companies_map):
    p = contact.get("properties", {})
    email = p.get("email")
    if not email:
        return None
    company_name = ""
    company_domain = ""
    assocs = contact.get("associations", {}).get("companies", {}).get("results", [])
    if assocs:
        comp = companies_map.get(assocs[0]["id"], {})
        company_name = comp.get("name", "") or ""
        company_domain = comp.get("domain", "") or ""
    if not company_name:
        domain = email.split("@")[1] if "@" in email else ""
        generic = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com"}
        if domain and domain not in generic:
            company_name = domain.split(".")[0].capitalize()
    fn = (p.get("firstname") or "").strip()
    ln = (p.get("lastname") or "").strip()
    if not fn:
        parts = re.split(r"[._-]", email.split("@")[0])
        fn = parts[0].capitalize()
    if not ln:
        parts = re.split(r"[._-]", email.split("@")[0])
        ln = parts[-1].capitalize() if len(parts) >= 2 else "-"
    lead = {"client_id": CLIENT_ID, "firstName": fn, "lastName": ln, "email": email}
    if company_name:
        lead["companyName"] = company_name
    title = (p.get("jobtitle") or "").strip()
    if title:
        lead["title"] = title
    phone = (p.get("phone") or p.get("mobilephone") or "").strip()
    if phone:
        lead["phoneNumber"] = phone
    if company_domain:
        lead["companyUrl"] = company_domain
    notes_parts = ["Historic Contact imported from HubSpot"]
    if p.get("lifecyclestage"):
        notes_parts.append(f"Lifecycle: {p['lifecyclestage']}")
    if p.get("hs_lead_status"):
        notes_parts.append(f"Status: {p['hs_lead_status']}")
    lead["notes"] = "\n".join(notes_parts)
    return lead


leads = [lead for lead in (build_lead(c, companies) for c in contacts) if lead]
token = lg_refresh()
headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
for i, lead in enumerate(leads):
    if i > 0 and i % 200 == 0:
        token = lg_refresh()
        headers["Authorization"] = f"Bearer {token}"
    try:
        resp = requests.post(f"{LG_BASE}/leads", headers=headers, json=lead, timeout=15)
        if resp.status_code == 401:
            token = lg_refresh()
            headers["Authorization"] = f"Bearer {token}"
            requests.post(f"{LG_BASE}/leads", headers=headers, json=lead, timeout=15)
    except Exception:
        pass
    time.sleep(0.15)  # ~400 leads/min, safe rate
