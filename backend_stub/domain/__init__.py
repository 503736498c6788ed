"""The service's rules, without FastAPI: each rule has one definition here that the
routes, the console, the journey and the orders read."""
