"""The legacy enrichment API's documented upload (its Python example, with `requests`), in the
loop people write around it: 200 records a request, one request at a time, a sleep to stay
under the quota, and the same request sent again when it fails (a lost answer included).

    python campaign_loop.py BASE_URL TOKEN SLUG FILE.csv PER_MINUTE

Runs until the file is done or it is killed.
"""

import csv
import json
import sys
import time

import requests

URL, TOKEN, SLUG, FILE, PER_MINUTE = sys.argv[1:6]
UPLOAD_URL = '/api/v1/enrichment/upload/'

HEADERS = {
    'Authorization': f'Token {TOKEN}',
    'Content-Type': 'application/json'
}


def record(row):
    return {'contact_first_name': row['First Name'], 'contact_last_name': row['Last Name'],
            'contact_email': row['Email'], 'org_company_name': row['Company'],
            'contact_job_title': row['Title']}


def upload(records):
    data = {'slug': SLUG, 'type': 'datahub', 'fields': ['org_industry'], 'records': records}
    while True:
        try:
            response = requests.post(url=URL + UPLOAD_URL, headers=HEADERS,
                                     data=json.dumps(data), timeout=30)
            if response.status_code == 201:
                return
        except requests.RequestException:
            pass
        time.sleep(60 / float(PER_MINUTE))


if __name__ == '__main__':
    with open(FILE, newline='', encoding='utf-8') as f:
        rows = [record(r) for r in csv.DictReader(f)]
    for start in range(0, len(rows), 200):
        upload(rows[start:start + 200])
        time.sleep(60 / float(PER_MINUTE))
