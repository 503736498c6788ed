"""Rules shared by the phone app and the server, in plain Python (no numpy, no FastAPI):
what both sides must agree on has one definition here."""
