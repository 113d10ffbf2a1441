"""`hitl-contract load`: HITL journeys under load on Locust (load_cli.py starts it). Nothing here imports Locust
or gevent except locustfile.py, which only Locust's own process imports."""
