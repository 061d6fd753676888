"""docker-py's ``Model`` (an object's attributes as the daemon reported
them, and the client it came from) and ``Collection`` (a family's methods:
get, list, create...)."""
from __future__ import annotations


class Model:
    id_attribute = "Id"

    def __init__(self, attrs: dict | None = None, client=None, collection=None) -> None:
        self.client = client
        self.collection = collection
        self.attrs = attrs if attrs is not None else {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.short_id}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, type(self)) and self.id == other.id

    def __hash__(self) -> int:
        return hash(f"{type(self).__name__}:{self.id}")

    @property
    def id(self):
        return self.attrs.get(self.id_attribute)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def reload(self) -> None:
        """Ask the daemon again."""
        self.attrs = self.collection.get(self.id).attrs


class Collection:
    model: type[Model] = Model

    def __init__(self, client=None) -> None:
        self.client = client

    def __call__(self, *args, **kwargs):
        raise TypeError(f"'{type(self).__name__}' object is not callable. You might be trying to use "
                        "the old (pre-2.0) API - use docker.APIClient if so.")

    def prepare_model(self, attrs) -> Model:
        if isinstance(attrs, Model):
            attrs.client, attrs.collection = self.client, self
            return attrs
        if isinstance(attrs, dict):
            return self.model(attrs=attrs, client=self.client, collection=self)
        raise TypeError(f"Can't create {self.model.__name__} from {attrs}")
