"""Locust file for Agora's election gateway, as seed 004 loaded its ingress.

Each simulated user posts ballots in the seed's JSON format to ``POST /ingest``, which splits
them between the gRPC and the Redis route (ELECTION_ROUTE_WEIGHTS on the gateway). Each ballot
gets a fresh ``id`` that every retry of it reuses, so a retried ballot is stored once.

    pip install locust
    locust -f src/election/locust/locustfile.py --host http://127.0.0.1:3001
    # headless: add --headless -u 50 -r 10 -t 1m
    # other data: BALLOTS_FILE=my-ballots.json (a JSON array of ballots, the seed's format)

``agora load election`` does the same with three routes, per-route live stats and a check that
every acknowledged ballot is in Postgres exactly once.
"""

import json
import os
import random
import time
import uuid

from locust import HttpUser, between, task

HERE = os.path.dirname(os.path.abspath(__file__))
BALLOTS_FILE = os.environ.get("BALLOTS_FILE", os.path.join(HERE, "ballots.json"))
FIELDS = ("sede", "municipio", "departamento", "papeleta", "partido")
# 503 (a dependency is down) and other 5xx may pass; 4xx never will.
RETRIES = int(os.environ.get("BALLOT_RETRIES", "3"))

with open(BALLOTS_FILE, encoding="utf-8") as handle:
    BALLOTS = [{field: ballot[field] for field in FIELDS} for ballot in json.load(handle)]


class Voter(HttpUser):
    wait_time = between(0.1, 0.5)

    @task
    def cast_ballot(self):
        ballot = dict(random.choice(BALLOTS), id=str(uuid.uuid4()))
        for attempt in range(RETRIES + 1):
            with self.client.post("/ingest", json=ballot, name="/ingest", catch_response=True) as response:
                if response.status_code in (200, 201):
                    response.success()
                    return
                # 0 is a connection error (the gateway restarting): retry it like a 5xx.
                if 0 < response.status_code < 500:
                    response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                    return
                response.failure(f"HTTP {response.status_code}")
            # Back off before the retry: a restarting dependency needs a moment, not a burst.
            time.sleep(min(0.1 * 2**attempt, 2.0))
