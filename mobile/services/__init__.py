"""What the views call: the backend API, local checks, capture."""
