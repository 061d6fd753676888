"""docker-py's high-level objects: collections and models over ``APIClient``."""
